"""Writes the PyTorch-made fixtures of the safetensors dtype tests (run from anywhere):

    /usr/bin/python3 packages/core/test/data/make_torch_dtypes.py

Needs PyTorch (Debian: apt-get install python3-torch); the tests only read the files it writes.
There is no safetensors package in Debian, so the format is written here with struct and json,
laid out as safetensors.torch.save_file lays it out: '__metadata__' first, then the header
keys sorted by name, the data sorted by decreasing item size then name, no gaps.

torch-dtypes.safetensors   for each of F16, BF16, I16, I8, U8, BOOL: a tensor of bit patterns
                           (subnormals, zeros, infinities, NaNs, extremes) named after the dtype,
                           and '<dtype>.wide': PyTorch's own conversion to float32 (floats) or
                           int32 (integers, bool).
torch-state-dict.safetensors  the state_dict of a small module with float16 and bfloat16 Linear
                           layers, a BatchNorm1d (I64 num_batches_tracked) and bool, uint8, int8
                           and int16 buffers.
torch-state-dict-io.safetensors  'x', the outputs 'fp16.y' and 'bf16.y' of the two Linear layers
                           computed by PyTorch in float32 from the widened weights, and every
                           state_dict entry widened as graphgrad should read it ('wide.<name>').
"""
import json
import os
import struct

import torch

OUT = os.path.dirname(os.path.abspath(__file__))
TAG = {torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16',
       torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8',
       torch.uint8: 'U8', torch.bool: 'BOOL'}
# Same-size integer views, so the raw bytes come out exactly (numpy has no bfloat16).
RAW = {torch.float16: torch.int16, torch.bfloat16: torch.int16}


def raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in RAW:
        t = t.view(RAW[t.dtype])
    return t.numpy().tobytes()  # little-endian on every machine PyTorch runs on here


def save(name, tensors, metadata):
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    offsets, blobs, pos = {}, [], 0
    for k in order:
        b = raw_bytes(tensors[k])
        offsets[k] = [pos, pos + len(b)]
        blobs.append(b)
        pos += len(b)
    header = {'__metadata__': metadata}
    for k in sorted(tensors):
        header[k] = {'dtype': TAG[tensors[k].dtype], 'shape': list(tensors[k].shape), 'data_offsets': offsets[k]}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def patterns(exp_bits, frac_bits, exps, full_exp):
    """Bit patterns with the given exponent fields: every fraction for full_exp (positive), a stride otherwise, both signs."""
    out = []
    for sign in (0, 1):
        for e in exps:
            step = 1 if (e == full_exp and sign == 0) else 17
            fracs = list(range(0, 1 << frac_bits, step)) + [(1 << frac_bits) - 1]
            out += [(sign << (exp_bits + frac_bits)) | (e << frac_bits) | f for f in fracs]
    return sorted(set(out))


def int16_of(bits):
    return torch.tensor([b - (1 << 16) if b >= 1 << 15 else b for b in bits], dtype=torch.int16)


meta = {'format': 'pt', 'torch_version': torch.__version__, 'made_by': 'packages/core/test/data/make_torch_dtypes.py'}

f16 = int16_of(patterns(5, 10, [0, 1, 14, 15, 30, 31], 0)).view(torch.float16)
bf16 = int16_of(patterns(8, 7, [0, 1, 126, 127, 254, 255], 0)).view(torch.bfloat16)
i16 = torch.tensor(sorted(set(list(range(-32768, 32768, 251)) + [-32768, -1, 0, 1, 32767])), dtype=torch.int16)
samples = {
    'F16': f16.reshape(-1),
    'BF16': bf16.reshape(-1),
    'I16': i16.reshape(2, -1) if i16.numel() % 2 == 0 else i16,
    'I8': torch.arange(-128, 128, dtype=torch.int16).to(torch.int8).reshape(16, 16),
    'U8': torch.arange(0, 256, dtype=torch.int16).to(torch.uint8),
    'BOOL': torch.tensor([[False, True, True], [True, False, False]]),
}
table = {}
for tag, t in samples.items():
    table[tag] = t
    table[tag + '.wide'] = t.float() if t.is_floating_point() else t.to(torch.int32)
save('torch-dtypes.safetensors', table, meta)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fp16 = torch.nn.Linear(3, 2).half()
        self.bf16 = torch.nn.Linear(3, 2).to(torch.bfloat16)
        self.norm = torch.nn.BatchNorm1d(2)
        self.register_buffer('mask', torch.tensor([True, False, True]))
        self.register_buffer('codes', torch.tensor([0, 7, 255], dtype=torch.uint8))
        self.register_buffer('qweight', torch.tensor([[-128, 0, 127]], dtype=torch.int8))
        self.register_buffer('ids', torch.tensor([-32768, 1, 32767], dtype=torch.int16))


torch.manual_seed(17)
net = Net()
net.norm.train()
net.norm(torch.randn(4, 2))  # non-trivial running stats and num_batches_tracked = 1
sd = net.state_dict()
save('torch-state-dict.safetensors', dict(sd), meta)

x = torch.randn(4, 3)
with torch.no_grad():
    io = {
        'x': x,
        'fp16.y': torch.nn.functional.linear(x, net.fp16.weight.float(), net.fp16.bias.float()),
        'bf16.y': torch.nn.functional.linear(x, net.bf16.weight.float(), net.bf16.bias.float()),
    }
for k, v in sd.items():
    io['wide.' + k] = v.float() if v.is_floating_point() else v.to(torch.int32)
save('torch-state-dict-io.safetensors', io, meta)
