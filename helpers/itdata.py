"""Sentences of the course's kind, generated, to teach a model what "it" refers to.

Built in notebook 08_what_is_it. Every sentence has an agent (the person, the trader, ...), a
verb, an object (the swap, the bond, ...) and a closing clause after "because it" that fits
only an agent ("was trained to do so") or only an object ("was an effective hedge"):

    active:  the person executed the swap because it was trained to do so
    passive: the swap was executed by the person because it was trained to do so

The clause decides the referent: an agent clause means "it" is the agent, an object clause the
object. Which noun comes first depends on the voice, so position alone cannot tell.

Each sentence is followed by a short question, "; it =", and the word after "=" is the answer:
notebook 08 trains a small GPT to predict it, as one more next word.

Two held-out sets test two things (`make_splits`): `new_pairs` holds sentences whose word pairs
(referent and clause, agent and object, verb and clause) never occur in training, among them both
of the course's sentences; `new_voice` holds clauses in the voice training never showed them in.
Agent and object clauses have the same spread of lengths, so a sentence's length does not give
the answer away. Sentences carry no final full stop (it would be the same token on every one).
"""
import itertools
import random
from dataclasses import dataclass

from helpers.text import SENTENCE_PERSON, SENTENCE_SWAP, sentence_words

AGENTS = ("person", "trader", "banker", "robot", "client", "broker", "manager", "analyst")
OBJECTS = ("swap", "option", "bond", "contract", "loan", "deal", "stock", "order")
VERBS = ("executed", "bought", "sold", "signed", "approved", "rejected", "priced", "booked")
# Each list: lengths 2, 2, 3, 3, 4, 4, 4, 5 words, so a clause's length says nothing about its kind.
AGENT_CLAUSES = (
    "was tired", "was careful", "needed the cash", "knew the rules", "had a good reason",
    "was in a hurry", "knew the market well", "was trained to do so",
)
OBJECT_CLAUSES = (
    "was cheap", "was underpriced", "was too risky", "carried little risk", "was an effective hedge",
    "was about to expire", "looked like a bargain", "was priced below its value",
)
CLAUSES = AGENT_CLAUSES + OBJECT_CLAUSES
VOICES = ("active", "passive")

# The course's two sentences, as (agent, verb, object, clause, voice).
COURSE_COMBINATIONS = (
    ("person", "executed", "swap", "was trained to do so", "active"),
    ("person", "executed", "swap", "was an effective hedge", "active"),
)


@dataclass(frozen=True)
class ItSentence:
    """One generated sentence: its words, where "it" is, and where the noun it refers to is."""
    agent: str
    verb: str
    object: str
    clause: str
    voice: str

    def __post_init__(self):
        for value, allowed, name in ((self.agent, AGENTS, "agent"), (self.verb, VERBS, "verb"),
                                     (self.object, OBJECTS, "object"), (self.clause, CLAUSES, "clause"),
                                     (self.voice, VOICES, "voice")):
            if value not in allowed:       # a misspelt clause would otherwise make the object the referent
                raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")

    @property
    def referent(self):
        """The noun "it" refers to: the agent for an agent clause, else the object."""
        return self.agent if self.clause in AGENT_CLAUSES else self.object

    @property
    def words(self):
        if self.voice == "active":
            head = ["the", self.agent, self.verb, "the", self.object]
        else:
            head = ["the", self.object, "was", self.verb, "by", "the", self.agent]
        return head + ["because", "it"] + self.clause.split()

    @property
    def text(self):
        return " ".join(self.words)

    @property
    def it_position(self):
        return self.words.index("it")

    @property
    def referent_position(self):
        return self.words.index(self.referent)

    @property
    def noun_positions(self):
        """(first noun, second noun): (1, 4) in active voice, (1, 6) in passive."""
        return (1, 4) if self.voice == "active" else (1, 6)

    def pairs(self):
        """The three kinds of combination this sentence holds, as {kind: pair}."""
        return {"referent-clause": (self.referent, self.clause),
                "agent-object": (self.agent, self.object),
                "verb-clause": (self.verb, self.clause)}


def all_sentences():
    """Every sentence the vocabulary can make (8 x 8 x 8 x 16 x 2 = 16,384), in a fixed order."""
    return [ItSentence(a, v, o, c, voice)
            for a, v, o, c, voice in itertools.product(AGENTS, VERBS, OBJECTS, CLAUSES, VOICES)]


def course_sentences():
    """The two sentences of the course, as ItSentence; their text equals helpers.text's."""
    found = [ItSentence(*combination) for combination in COURSE_COMBINATIONS]
    assert [s.words for s in found] == [sentence_words(SENTENCE_PERSON), sentence_words(SENTENCE_SWAP)]
    return found


def _all_pairs():
    referent_clause = ([(a, c) for a in AGENTS for c in AGENT_CLAUSES]
                       + [(o, c) for o in OBJECTS for c in OBJECT_CLAUSES])
    return {"referent-clause": referent_clause,
            "agent-object": [(a, o) for a in AGENTS for o in OBJECTS],
            "verb-clause": [(v, c) for v in VERBS for c in CLAUSES]}


def choose_held_out_pairs(fraction=0.25, seed=0):
    """{kind: set of pairs} never shown in training: the course sentences' pairs, plus a random
    `fraction` of every kind of pair."""
    rng = random.Random(seed)
    held_out = {kind: set() for kind in _all_pairs()}
    for sentence in course_sentences():
        for kind, pair in sentence.pairs().items():
            held_out[kind].add(pair)
    for kind, pairs in _all_pairs().items():
        wanted = round(fraction * len(pairs))
        rest = [p for p in pairs if p not in held_out[kind]]
        held_out[kind].update(rng.sample(rest, max(0, wanted - len(held_out[kind]))))
    return held_out


def held_out_kinds(sentence, held_out):
    """Which kinds of this sentence's pairs are held out (a set of kind names)."""
    return {kind for kind, pair in sentence.pairs().items() if pair in held_out[kind]}


# Two clauses of each kind that training shows in ONE voice only; the other voice is held out.
# Which voice each one keeps is drawn by `choose_voice_held_out` (the course's clauses are never
# drawn, so the two course sentences stay in the other held-out set).
VOICE_HELD_OUT_PER_KIND = 2


def choose_voice_held_out(seed=0):
    """{(clause, voice)} never shown in training: for each kind of clause, VOICE_HELD_OUT_PER_KIND
    clauses, one seen only in the active voice, the next only in the passive, and so on."""
    rng = random.Random(seed)
    course_clauses = {clause for _, _, _, clause, _ in COURSE_COMBINATIONS}
    held_out = set()
    for clauses in (AGENT_CLAUSES, OBJECT_CLAUSES):
        chosen = rng.sample([c for c in clauses if c not in course_clauses], VOICE_HELD_OUT_PER_KIND)
        for i, clause in enumerate(chosen):
            held_out.add((clause, VOICES[i % 2]))            # this voice of the clause is never trained
    return held_out


@dataclass
class ItSplits:
    """Sentences split by what training saw.

    train: no held-out pair and no held-out (clause, voice).
    new_pairs: sentences whose (referent, clause), (agent, object) and (verb, clause) pairs are all
        missing from training ("strictly unseen"): memory of sentences or of noun-clause pairs
        cannot answer them. Their clauses are seen in training in this voice.
    new_voice: a clause in the voice training never showed it in (any nouns): an answer learned
        as "this clause -> that position" is wrong here, because the voice moves the nouns.
    """
    train: list
    new_pairs: list
    new_voice: list
    held_out: dict
    voice_held_out: set


def make_splits(fraction=0.25, seed=0):
    """Split every sentence the vocabulary makes into training and two held-out sets (ItSplits)."""
    held_out = choose_held_out_pairs(fraction, seed)
    voice_held_out = choose_voice_held_out(seed)
    train, new_pairs, new_voice = [], [], []
    for sentence in all_sentences():
        kinds = held_out_kinds(sentence, held_out)
        if (sentence.clause, sentence.voice) in voice_held_out:
            if not kinds:                  # only the voice is new, so the two sets test one thing each
                new_voice.append(sentence)
        elif not kinds:
            train.append(sentence)
        elif len(kinds) == 3:
            new_pairs.append(sentence)
    return ItSplits(train, new_pairs, new_voice, held_out, voice_held_out)


def counterfactual(sentence):
    """The same sentence with its clause swapped for the other kind's clause of the same length
    and place in its list ("was tired" <-> "was cheap"): the referent must flip to the other noun."""
    if sentence.clause in AGENT_CLAUSES:
        clause = OBJECT_CLAUSES[AGENT_CLAUSES.index(sentence.clause)]
    else:
        clause = AGENT_CLAUSES[OBJECT_CLAUSES.index(sentence.clause)]
    return ItSentence(sentence.agent, sentence.verb, sentence.object, clause, sentence.voice)


# The question after each sentence: the model's next word after "=" is its answer.
PROMPT = (";", "it", "=")


def vocabulary():
    """Every word the sentences and the prompt use, sorted, after the padding token '<pad>' (index 0).

    '<blank>' stands in for the clause's words in notebook 08's clause-blind baseline."""
    words = set(AGENTS) | set(OBJECTS) | set(VERBS) | {"the", "was", "by", "because", "it", "<blank>"}
    for clause in CLAUSES:
        words |= set(clause.split())
    return ["<pad>"] + sorted(words | set(PROMPT))


def sentence_from_choices(agent, verb, obj, clause, voice):
    """An ItSentence from menu choices (the widget of notebook 08); ItSentence names a bad one."""
    return ItSentence(agent, verb, obj, clause, voice)


def _vocabulary_kinds():
    return (f"agents ({', '.join(AGENTS)}); verbs ({', '.join(VERBS)}); objects ({', '.join(OBJECTS)}); "
            f"clauses after 'because it' ({' | '.join(CLAUSES)}); plus the, was, by, because, it")


def sentence_from_text(text):
    """An ItSentence from typed text (the widget of notebook 08), in either voice:

        the AGENT VERB the OBJECT because it CLAUSE
        the OBJECT was VERB by the AGENT because it CLAUSE

    Case and a final full stop are ignored. Anything else raises a ValueError that names the
    unknown words or the expected shape, and lists the kinds of word the model knows.
    """
    words = text.lower().strip().rstrip(".").split()
    unknown = [w for w in words if w not in vocabulary() or w.startswith("<") or w in (";", "=")]
    if unknown:
        raise ValueError(f"the model does not know {', '.join(map(repr, unknown))}; it knows only "
                         + _vocabulary_kinds())
    for voice in VOICES:
        found = _match(words, voice)
        if found:
            return found
    raise ValueError("could not read the sentence: write 'the AGENT VERB the OBJECT because it CLAUSE' or "
                     "'the OBJECT was VERB by the AGENT because it CLAUSE', with " + _vocabulary_kinds())


def _match(words, voice):
    """The ItSentence whose words are `words` in `voice`, or None."""
    if voice == "active" and len(words) > 7:
        agent, verb, obj, clause = words[1], words[2], words[4], " ".join(words[7:])
    elif voice == "passive" and len(words) > 9:
        agent, verb, obj, clause = words[6], words[3], words[1], " ".join(words[9:])
    else:
        return None
    if agent in AGENTS and verb in VERBS and obj in OBJECTS and clause in CLAUSES:
        sentence = ItSentence(agent, verb, obj, clause, voice)
        if sentence.words == words:
            return sentence
    return None


def words_with_prompt(sentence, blank_clause=False):
    """The sentence's words, then the prompt: '... because it was tired ; it ='.
    blank_clause=True writes '<blank>' for every word of the clause (the clause-blind baseline)."""
    words = list(sentence.words)
    if blank_clause:
        words[sentence.it_position + 1:] = ["<blank>"] * (len(words) - sentence.it_position - 1)
    return words + list(PROMPT)


def _check_sentences(sentences):
    if isinstance(sentences, (str, ItSentence)) or not sentences:
        raise TypeError("encode takes a non-empty list of ItSentence: for one sentence write [sentence]; "
                        "for typed text use sentence_from_text(text)")
    strangers = [s for s in sentences if not isinstance(s, ItSentence)]
    if strangers:
        raise TypeError(f"every item must be an ItSentence, found {type(strangers[0]).__name__} "
                        f"{strangers[0]!r:.60}: for typed text use sentence_from_text(text)")


def encode(sentences, vocab=None, blank_clause=False):
    """Sentences -> a dict of tensors for the next-word model of notebook 08.

    `sequence` (N, T + 1): sentence, prompt, then the referent as the word after '=', padded with 0
    (<pad>) on the right; the model reads sequence[:, :-1] and predicts sequence[:, 1:].
    `answer_at` (N,): the position of '=' in the input, where the next word is the answer.
    `target` (N,): the referent's id. `it`, `referent` (N,): positions of "it" and of the referent
    noun; `other` (N,): the position of the other noun.
    """
    import torch

    _check_sentences(sentences)
    vocab = vocab or vocabulary()
    index = {word: i for i, word in enumerate(vocab)}
    rows = [words_with_prompt(s, blank_clause) + [s.referent] for s in sentences]
    sequence = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for row, words in enumerate(rows):
        sequence[row, :len(words)] = torch.tensor([index[w] for w in words])
    other = [s.noun_positions[0] + s.noun_positions[1] - s.referent_position for s in sentences]
    return {
        "sequence": sequence,                                                # (N, T + 1)
        "answer_at": torch.tensor([len(words) - 2 for words in rows]),        # (N,)
        "target": torch.tensor([index[s.referent] for s in sentences]),      # (N,)
        "it": torch.tensor([s.it_position for s in sentences]),              # (N,)
        "referent": torch.tensor([s.referent_position for s in sentences]),  # (N,)
        "other": torch.tensor(other),                                        # (N,)
    }
