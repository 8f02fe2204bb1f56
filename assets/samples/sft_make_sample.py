"""Makes the bundled instruction-tuning sample (assets/samples/sft_json_*.jsonl), reproducibly.

The behaviour taught: answer every short question with one line of JSON,
{"topic": "<one of TOPICS>", "answer": "<short answer>"}, and nothing else. SmolLM2-135M-Instruct
never does this on its own (it writes a sentence), and a program can check it
(models/training/sft/data.py `follows`).

The questions are everyday facts written for this app (capitals, sums, opposites, plurals, animal
sounds, colours, science), each with several phrasings; the held-out prompts use items that
never appear in the training pairs. Licence: CC0 1.0 (see assets/samples/README.md).

    .venv/bin/python assets/samples/sft_make_sample.py     # rewrites the two files
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))      # the repository root
from models.training.sft.data import TOPICS  # noqa: E402  (the checker `follows` lives there too)

HERE = Path(__file__).resolve().parent
TRAIN_FILE = HERE / "sft_json_train.jsonl"
HELDOUT_FILE = HERE / "sft_json_heldout.jsonl"
SEED = 14

CAPITALS = [("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
            ("Japan", "Tokyo"), ("China", "Beijing"), ("Egypt", "Cairo"), ("Kenya", "Nairobi"),
            ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Brazil", "Brasilia"),
            ("Argentina", "Buenos Aires"), ("Mexico", "Mexico City"), ("India", "New Delhi"),
            ("Russia", "Moscow"), ("Greece", "Athens"), ("Portugal", "Lisbon"),
            ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"),
            ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Ireland", "Dublin"),
            ("Peru", "Lima"), ("Chile", "Santiago"), ("Thailand", "Bangkok"),
            ("Vietnam", "Hanoi"), ("South Korea", "Seoul"), ("Turkey", "Ankara"),
            ("Iran", "Tehran"), ("Cuba", "Havana"), ("Denmark", "Copenhagen"),
            ("Hungary", "Budapest"), ("Belgium", "Brussels"), ("Netherlands", "Amsterdam"),
            ("Switzerland", "Bern"), ("Nigeria", "Abuja"), ("Morocco", "Rabat"),
            ("Indonesia", "Jakarta"), ("Philippines", "Manila"), ("Colombia", "Bogota"),
            ("Ukraine", "Kyiv"), ("Czechia", "Prague"), ("Ethiopia", "Addis Ababa")]
OPPOSITES = [("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"),
             ("light", "dark"), ("open", "closed"), ("early", "late"), ("full", "empty"),
             ("strong", "weak"), ("old", "young"), ("rich", "poor"), ("hard", "soft"),
             ("wet", "dry"), ("loud", "quiet"), ("tall", "short"), ("up", "down"),
             ("win", "lose"), ("clean", "dirty"), ("thick", "thin"), ("begin", "end"),
             ("push", "pull"), ("buy", "sell"), ("cheap", "expensive"), ("near", "far"),
             ("safe", "dangerous"), ("true", "false"), ("day", "night"), ("left", "right")]
PLURALS = [("mouse", "mice"), ("child", "children"), ("foot", "feet"), ("tooth", "teeth"),
           ("man", "men"), ("woman", "women"), ("goose", "geese"), ("box", "boxes"),
           ("city", "cities"), ("leaf", "leaves"), ("knife", "knives"), ("sheep", "sheep"),
           ("fish", "fish"), ("bus", "buses"), ("baby", "babies"), ("wolf", "wolves"),
           ("potato", "potatoes"), ("person", "people"), ("ox", "oxen"), ("cactus", "cacti")]
SOUNDS = [("cow", "moo"), ("dog", "woof"), ("cat", "meow"), ("duck", "quack"),
          ("sheep", "baa"), ("pig", "oink"), ("lion", "roar"), ("owl", "hoot"),
          ("horse", "neigh"), ("snake", "hiss"), ("bee", "buzz"), ("frog", "croak"),
          ("mouse", "squeak"), ("crow", "caw"), ("donkey", "bray"), ("wolf", "howl")]
YOUNG = [("dog", "puppy"), ("cat", "kitten"), ("cow", "calf"), ("horse", "foal"),
         ("sheep", "lamb"), ("duck", "duckling"), ("frog", "tadpole"), ("bear", "cub"),
         ("goat", "kid"), ("kangaroo", "joey"), ("swan", "cygnet"), ("pig", "piglet")]
COLOURS = [("a ripe banana", "yellow"), ("grass", "green"), ("the sky on a clear day", "blue"),
           ("snow", "white"), ("coal", "black"), ("a ripe tomato", "red"), ("an orange", "orange"),
           ("a lemon", "yellow"), ("a polar bear's fur", "white"), ("a crow", "black"),
           ("a fire truck", "red"), ("milk", "white"), ("a flamingo", "pink"),
           ("chocolate", "brown"), ("an emerald", "green"), ("a blueberry", "blue"),
           ("a pumpkin", "orange"), ("a lime", "green"), ("an eggplant", "purple"),
           ("the sun in a child's drawing", "yellow")]
SCIENCE = [("What planet is closest to the Sun?", "Mercury"),
           ("What is the largest planet in our solar system?", "Jupiter"),
           ("What gas do plants take in from the air?", "carbon dioxide"),
           ("What gas do we need to breathe to live?", "oxygen"),
           ("At what temperature in Celsius does water freeze?", "0 degrees"),
           ("At what temperature in Celsius does water boil at sea level?", "100 degrees"),
           ("What is the chemical symbol for gold?", "Au"),
           ("What is the chemical symbol for water?", "H2O"),
           ("Which planet is known as the Red Planet?", "Mars"),
           ("What force pulls things toward the ground?", "gravity"),
           ("How many legs does a spider have?", "eight"),
           ("How many legs does an insect have?", "six"),
           ("What is the hardest natural material?", "diamond"),
           ("What organ pumps blood around the body?", "the heart"),
           ("What star is at the centre of our solar system?", "the Sun"),
           ("What do bees make?", "honey"),
           ("How many planets are in our solar system?", "eight"),
           ("What is the closest star to Earth?", "the Sun"),
           ("What part of the plant makes food from sunlight?", "the leaves"),
           ("What is frozen water called?", "ice"),
           ("What is the natural satellite of Earth called?", "the Moon"),
           ("Which organ do we use to breathe?", "the lungs"),
           ("What is the chemical symbol for iron?", "Fe"),
           ("How many bones does an adult human have?", "206")]
WORDS = ["apple", "river", "garden", "pencil", "window", "orange", "planet", "teacher",
         "music", "bridge", "tiger", "yellow", "castle", "cloud", "dragon", "school",
         "friend", "summer", "rocket", "island", "banana", "winter", "forest", "camera"]

PHRASE = {
    "capital": ["What is the capital of {x}?", "Name the capital city of {x}.",
                "Which city is the capital of {x}?", "Tell me the capital of {x}."],
    "add": ["What is {a} plus {b}?", "Add {a} and {b}.", "How much is {a} + {b}?"],
    "mul": ["What is {a} times {b}?", "Multiply {a} by {b}.", "How much is {a} x {b}?"],
    "sub": ["What is {a} minus {b}?", "Subtract {b} from {a}."],
    "opposite": ["What is the opposite of '{x}'?", "Give me the opposite of the word {x}.",
                 "What word means the opposite of {x}?"],
    "plural": ["What is the plural of '{x}'?", "How do you say more than one {x}?"],
    "letters": ["How many letters are in the word '{x}'?", "Count the letters in '{x}'."],
    "sound": ["What sound does a {x} make?", "What noise does a {x} make?"],
    "young": ["What is a baby {x} called?", "What do you call a young {x}?"],
    "colour": ["What colour is {x}?", "What is the colour of {x}?"],
}


def answer_line(topic: str, answer: str) -> str:
    """The one line the tuned model should write."""
    return json.dumps({"topic": topic, "answer": answer}, ensure_ascii=False)


def _items(rng: random.Random) -> list[tuple[str, str, str]]:
    """(prompt, topic, answer) for every item, each in one of its phrasings."""
    out = []

    def add(kind, topic, answer, **fmt):
        out.append((rng.choice(PHRASE[kind]).format(**fmt), topic, answer))
    for country, city in CAPITALS:
        add("capital", "geography", city, x=country)
    for _ in range(40):
        a, b = rng.randint(2, 40), rng.randint(2, 40)
        add("add", "math", str(a + b), a=a, b=b)
    for _ in range(30):
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        add("mul", "math", str(a * b), a=a, b=b)
    for _ in range(20):
        a = rng.randint(20, 90)
        b = rng.randint(1, a - 1)
        add("sub", "math", str(a - b), a=a, b=b)
    for word, opp in OPPOSITES:
        add("opposite", "language", opp, x=word)
    for word, plural in PLURALS:
        add("plural", "language", plural, x=word)
    for word in WORDS:
        add("letters", "language", str(len(word)), x=word)
    for animal, sound in SOUNDS:
        add("sound", "animals", sound, x=animal)
    for animal, baby in YOUNG:
        add("young", "animals", baby, x=animal)
    for thing, colour in COLOURS:
        add("colour", "colours", colour, x=thing)
    for question, answer in SCIENCE:
        out.append((question, "science", answer))
    return out


def make(seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """(training pairs, held-out prompts): every 6th item (after a seeded shuffle, so each topic
    is represented) is held out, with its right answer kept for scoring."""
    rng = random.Random(seed)
    items = _items(rng)
    seen, unique = set(), []
    for prompt, topic, answer in items:          # a repeated sum would leak into the held-out set
        if prompt not in seen:
            seen.add(prompt)
            unique.append((prompt, topic, answer))
    rng.shuffle(unique)
    train, heldout = [], []
    for i, (prompt, topic, answer) in enumerate(unique):
        if i % 6 == 5:
            heldout.append({"prompt": prompt, "topic": topic, "answer": answer})
        else:
            train.append({"prompt": prompt, "response": answer_line(topic, answer)})
    return train, heldout


def main() -> None:
    train, heldout = make()
    for path, rows in ((TRAIN_FILE, train), (HELDOUT_FILE, heldout)):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
        print(f"{path.name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
