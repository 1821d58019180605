"""Writes the PyTorch training trajectory of the character language model (run from anywhere):

    /usr/bin/python3 testdata/scripts/lm_torch_trajectory.py

Needs PyTorch (Debian: apt-get install python3-torch); the tests only read the two files it writes,
into testdata/lm-torch/ (examples/test/lm-torch.test.ts replays them through the example's own
training step, examples/src/lm/train.ts):

    trajectory.safetensors   the token ids of the text ('tokens', I64), the initial weights
                             ('init.<name>', F64) and the weights after the last step
                             ('final.<name>', F64), <name> the state_dict names of the model
    trajectory.json          the sizes and settings, the text, and per step the loss and the
                             gradient norm before clipping (float64), and the loss of the same
                             run in float32

The model is `pnpm lm`'s (examples/src/lm/model.ts): nn.Embedding, a 2-layer nn.LSTM (batch
first, no dropout) and nn.Linear, named embed, lstm, head. The initial weights are PyTorch's
default initialisation from a fixed seed. Training is `pnpm lm train`'s
(examples/src/lm/train.ts, batching.ts): the text's token ids (its distinct characters sorted by
code point) cut into BATCH contiguous streams; step s reads window k = s mod W of every stream
(W windows per pass), starting from the LSTM state the previous window ended in, detached
(truncated BPTT), and from zeros at k = 0; the loss is the mean cross-entropy over the window;
clip_grad_norm_ to CLIP, then Adam (torch's defaults, lr LR). There is no safetensors package in
Debian, so the format is written with struct and json (see testdata/reference/README.md).
"""
import json
import math
import os
import struct

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'testdata', 'lm-torch')

# The opening of A Tale of Two Cities (Dickens, 1859; public domain).
TEXT = (
    'It was the best of times, it was the worst of times, it was the age of wisdom, '
    'it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, '
    'it was the season of Light, it was the season of Darkness, it was the spring of hope, '
    'it was the winter of despair, we had everything before us, we had nothing before us, '
    'we were all going direct to Heaven, we were all going direct the other way.'
)
EMBED, HIDDEN, LAYERS = 6, 10, 2
BATCH, SEQ, STEPS = 3, 8, 200
LR, CLIP, SEED = 0.01, 0.5, 1234

TAG = {torch.float64: 'F64', torch.float32: 'F32', torch.int64: 'I64'}


def save(path, tensors, metadata):
    header, blobs, pos = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().cpu().numpy().tobytes()  # little-endian on every machine PyTorch runs on here
        header[name] = {'dtype': TAG[t.dtype], 'shape': list(t.shape), 'data_offsets': [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    os.replace(path + '.tmp', path)


class CharModel(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, EMBED)
        self.lstm = torch.nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, vocab)

    def forward(self, tokens, state):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


def windows(ids):
    """Every window of one pass, as batching.ts's Streams lays them out: (input, target) [BATCH, SEQ]."""
    stream = (len(ids) - 1) // BATCH
    count = stream // SEQ
    out = []
    for k in range(count):
        rows = [ids[b * stream + k * SEQ: b * stream + k * SEQ + SEQ + 1] for b in range(BATCH)]
        out.append((torch.tensor([r[:-1] for r in rows]), torch.tensor([r[1:] for r in rows])))
    return out


def train(init, vocab, batches, dtype):
    """Trains a copy of `init` in `dtype`; returns the per-step losses and gradient norms and the final weights."""
    model = CharModel(vocab).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init.items()})
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    losses, norms, state = [], [], None
    for step in range(STEPS):
        k = step % len(batches)
        if k == 0:
            state = None
        x, y = batches[k]
        logits, (h, c) = model(x, state)
        state = (h.detach(), c.detach())
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)))
        opt.step()
        losses.append(float(loss))
    return losses, norms, model.state_dict()


def main():
    chars = sorted(set(TEXT))
    ids = [chars.index(ch) for ch in TEXT]
    vocab = len(chars)
    torch.manual_seed(SEED)
    init = {k: v.detach().clone() for k, v in CharModel(vocab).to(torch.float64).state_dict().items()}
    batches = windows(ids)
    losses, norms, final = train(init, vocab, batches, torch.float64)
    losses32, _, _ = train(init, vocab, batches, torch.float32)
    assert all(math.isfinite(v) for v in losses + norms + losses32)
    os.makedirs(OUT, exist_ok=True)
    tensors = {'tokens': torch.tensor(ids, dtype=torch.int64)}
    tensors.update({f'init.{k}': v for k, v in init.items()})
    tensors.update({f'final.{k}': v for k, v in final.items()})
    save(os.path.join(OUT, 'trajectory.safetensors'), tensors, {'format': 'graphgrad-lm-torch/1', 'torch_version': torch.__version__})
    config = {
        'format': 'graphgrad-lm-torch/1',
        'generator': 'testdata/scripts/lm_torch_trajectory.py',
        'torch_version': torch.__version__,
        'model': {'vocabSize': vocab, 'embedDim': EMBED, 'hidden': HIDDEN, 'layers': LAYERS, 'dropout': 0},
        'training': {'seed': SEED, 'batch': BATCH, 'seq': SEQ, 'lr': LR, 'clip': CLIP, 'steps': STEPS, 'windowsPerPass': len(batches)},
        'text': TEXT,
        'losses': losses,
        'gradNorms': norms,
        'lossesFloat32': losses32,
    }
    path = os.path.join(OUT, 'trajectory.json')
    with open(path + '.tmp', 'w') as f:
        f.write(json.dumps(config, indent=1) + '\n')
    os.replace(path + '.tmp', path)
    print(f'{STEPS} steps, {len(batches)} windows per pass: loss {losses[0]:.4f} -> {losses[-1]:.4f} (float32 {losses32[-1]:.4f}); written to {OUT}')


if __name__ == '__main__':
    main()
