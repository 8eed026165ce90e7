"""Text for the course: the two sentences, the plays of Shakespeare, and tokenizers.

The two sentences are the course's thread (notebook 00 introduces them). The corpus and the
tokenizers are built in notebook 02_embeddings.
"""

# The article's running example. In the first, "it" is the person; in the second, the swap.
SENTENCE_PERSON = "The person executed the swap because it was trained to do so."
SENTENCE_SWAP = "The person executed the swap because it was an effective hedge."
SENTENCES = (SENTENCE_PERSON, SENTENCE_SWAP)
REFERENTS = ("person", "swap")  # what "it" refers to in each sentence, in order


def sentence_words(sentence):
    """Lower-case words of a sentence, final full stop dropped: 'The person ...' -> ['the', 'person', ...]."""
    return sentence.lower().rstrip(".").split()
