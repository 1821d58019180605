"""PyTorch's side of graphgrad's benchmark (`pnpm bench --compare`, implementations torch-1thr, torch-2thr).

Started by bench/src/impls/torch.ts, once per measurement, with Debian's PyTorch (/usr/bin/python3):

    /usr/bin/python3 bench/torch/torch_bench.py --threads N --data FILE --workload JSON

FILE is a safetensors file the TypeScript side wrote with graphgrad's seeded weights and data
(bench/src/data.ts), so that PyTorch starts from the same point as every other implementation.
Debian has no safetensors package: the file is read here with struct, json and numpy (8-byte
little-endian header length, JSON header, raw little-endian bytes). JSON is the workload as
bench/src/workloads.ts defines it.

The model is written the way PyTorch users write it: nn.Embedding, nn.LSTM or nn.GRU
(batch_first), nn.Linear, F.cross_entropy (mean over every position), torch.optim.Adam(lr=1e-3;
betas 0.9, 0.999 and eps 1e-8, graphgrad's defaults too), no gradient clipping (the workload has
none). Everything is float32. The thread count is fixed before torch loads (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS) and again with torch.set_num_threads.

Protocol, one line each way: after setup the script prints `ready {...}`; then for every line on
stdin it answers one JSON line on stdout:
  run    -> {"ms": wall ms of one counted unit (time.perf_counter), "loss": float or null}
  stats  -> {"live": live torch tensors after gc, "maxrss_mb": this process's peak RSS in MiB}
End of input ends the process. An error prints one line on stderr and exits with status 1.
"""
import argparse
import gc
import json
import os
import resource
import struct
import sys
import time

NUMPY_DTYPE = {'F32': '<f4', 'I32': '<i4'}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--workload', required=True)
    a = p.parse_args()
    if a.threads < 1:
        p.error(f'--threads must be at least 1, got {a.threads}')
    return a


ARGS = parse_args()
# OpenBLAS and OpenMP read these when the libraries load, so they are set before torch is imported.
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


def read_safetensors(path):
    """The tensors of a safetensors file, as float32 or int32 torch tensors, by name."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: {len(raw)} bytes is too short for a safetensors file')
    (n,) = struct.unpack('<Q', raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f'{path}: header length {n} runs past the end of the file ({len(raw)} bytes)')
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    out = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] not in NUMPY_DTYPE:
            raise ValueError(f"{path}: tensor '{name}' has dtype {entry['dtype']}, expected F32 or I32")
        start, end = entry['data_offsets']
        dtype = np.dtype(NUMPY_DTYPE[entry['dtype']])
        count = (end - start) // dtype.itemsize
        arr = np.frombuffer(raw, dtype=dtype, count=count, offset=8 + n + start).reshape(entry['shape'])
        out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder('='), copy=True))
    return out


class CharModel(nn.Module):
    """Embedding, one recurrent layer (batch-first), linear head: logits [batch * seq, vocab]."""

    def __init__(self, cell, shape):
        super().__init__()
        self.embedding = nn.Embedding(shape['vocab'], shape['embed'])
        rnn = nn.LSTM if cell == 'lstm' else nn.GRU
        self.rnn = rnn(shape['embed'], shape['hidden'], batch_first=True)
        self.head = nn.Linear(shape['hidden'], shape['vocab'])

    def forward(self, tokens):
        out, _ = self.rnn(self.embedding(tokens))
        return self.head(out.reshape(-1, out.shape[-1]))


def model_unit(w, data):
    """One counted unit of a training step or forward pass, returning the loss."""
    model = CharModel(w['cell'], w['shape'])
    state = {
        'embedding.weight': data['embedding'],
        'rnn.weight_ih_l0': data['weight_ih'],
        'rnn.weight_hh_l0': data['weight_hh'],
        'rnn.bias_ih_l0': data['bias_ih'],
        'rnn.bias_hh_l0': data['bias_hh'],
        'head.weight': data['head_weight'],
        'head.bias': data['head_bias'],
    }
    model.load_state_dict(state, strict=True)
    tokens = data['tokens'].long()
    targets = data['targets'].long()
    if w['kind'] == 'forward':
        def forward():
            with torch.no_grad():
                return F.cross_entropy(model(tokens), targets).item()
        return forward
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(tokens), targets)
        loss.backward()
        opt.step()
        return loss.item()
    return train_step


def matmul_unit(data):
    a, b = data['a'], data['b']

    def matmul():
        torch.mm(a, b)
        return None
    return matmul


def chain_unit(w, data):
    """x = tanh(x * w + b), `length` times, summed; the gradient with respect to w and b."""
    x0 = data['x0']
    wt = data['w'].clone().requires_grad_(True)
    bt = data['b'].clone().requires_grad_(True)
    length = w['length']

    def chain():
        x = x0
        for _ in range(length):
            x = torch.tanh(x * wt + bt)
        loss = x.sum()
        torch.autograd.grad(loss, (wt, bt))
        return loss.item()
    return chain


def unit_for(w, data):
    for name, t in data.items():
        if t.dtype not in (torch.float32, torch.int32):
            raise ValueError(f"tensor '{name}' is {t.dtype}, expected float32 or int32")
    kind = w['kind']
    if kind in ('train', 'forward'):
        return model_unit(w, data)
    if kind == 'matmul':
        return matmul_unit(data)
    if kind == 'chain':
        return chain_unit(w, data)
    raise ValueError(f"workload '{w['name']}' of kind '{kind}' has no PyTorch version")


def live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if torch.is_tensor(o))


def reply(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    torch.set_num_threads(ARGS.threads)
    workload = json.loads(ARGS.workload)
    unit = unit_for(workload, read_safetensors(ARGS.data))
    reply_line = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'workload': workload['name']}
    sys.stdout.write('ready ' + json.dumps(reply_line) + '\n')
    sys.stdout.flush()
    for line in sys.stdin:
        command = line.strip()
        if command == 'run':
            t0 = time.perf_counter()
            loss = unit()
            ms = (time.perf_counter() - t0) * 1000
            reply({'ms': ms, 'loss': loss})
        elif command == 'stats':
            reply({'live': live_tensors(), 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        else:
            raise ValueError(f"unknown command '{command}' (expected run or stats)")


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # one line for the TypeScript side, which reports it as the measurement's error
        sys.stderr.write(f'torch_bench.py: {type(e).__name__}: {e}\n'.replace('\n', ' ').rstrip() + '\n')
        sys.exit(1)
