"""The practice exercise of notebook 00_welcome: how checking works."""
from helpers.exercises import Exercise, register
from helpers.text import SENTENCE_PERSON, sentence_words

register(Exercise(
    id="00.word_count",
    task='how many words are in "The person executed the swap because it was trained to do so."',
    reference=len(sentence_words(SENTENCE_PERSON)),
    solution='len(sentence_words(SENTENCES[0]))   # 12: lower-case words, full stop dropped',
))
