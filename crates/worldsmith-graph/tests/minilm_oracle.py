"""An independent MiniLM sentence embedding in numpy: the oracle for the candle embedder.

Reads config.json and model.safetensors from the model directory (argv[1]) and token ids as
JSON lines on stdin (one list per text); prints one JSON vector per line: the mean of the
last layer's token states, scaled to unit length (sentence-transformers' recipe for
all-MiniLM-L6-v2). Only numpy; the BERT layers are written out here.
"""

import json
import math
import struct
import sys

import numpy as np

model_dir = sys.argv[1]
raw = open(f"{model_dir}/model.safetensors", "rb").read()
header_len = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8 : 8 + header_len])
base = 8 + header_len
config = json.load(open(f"{model_dir}/config.json"))
hidden, heads = config["hidden_size"], config["num_attention_heads"]
eps = config["layer_norm_eps"]


def tensor(name):
    entry = header[name]
    assert entry["dtype"] == "F32", entry
    start, end = entry["data_offsets"]
    return np.frombuffer(raw[base + start : base + end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)


def layer_norm(x, prefix):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * tensor(prefix + ".weight") + tensor(prefix + ".bias")


def linear(x, prefix):
    return x @ tensor(prefix + ".weight").T + tensor(prefix + ".bias")


erf = np.vectorize(math.erf)


def embed(ids):
    n = len(ids)
    x = (
        tensor("embeddings.word_embeddings.weight")[ids]
        + tensor("embeddings.position_embeddings.weight")[:n]
        + tensor("embeddings.token_type_embeddings.weight")[0]
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    head = hidden // heads
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q, k, v = (linear(x, p + "attention.self." + w).reshape(n, heads, head).transpose(1, 0, 2) for w in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
        attended = layer_norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inner = linear(attended, p + "intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))
        x = layer_norm(linear(inner, p + "output.dense") + attended, p + "output.LayerNorm")
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


for line in sys.stdin:
    if line.strip():
        print(json.dumps([float(v) for v in embed(json.loads(line))]))
