/**
 * The character model as an ONNX file and the file beside it that makes it usable alone: the
 * vocabulary (token id -> character) and the sizes of the LSTM state, with the SHA-256 of the
 * .onnx it belongs to, so a model and a vocabulary of different exports are never paired.
 *
 * ```
 * model.onnx         inputs tokens [batch, seq] (int64), h0, c0 [layers, batch, hidden] (float32);
 *                    outputs logits [batch, seq, vocab], hN, cN (float32); batch and seq dynamic
 * model.vocab.json   {"format": "graphgrad-lm-onnx/1", "onnx": {bytes, sha256}, "vocabulary": [...], "layers", "hidden", ...}
 * ```
 * @module
 */
import { basename } from 'node:path'
import { sha256 } from './corpus.ts'
import { LmError } from './errors.ts'
import { JsonReader, isString } from './json.ts'
import { LIMITS } from './limits.ts'
import { Vocabulary } from './vocabulary.ts'

/** The `format` of the vocabulary file. */
const FORMAT = 'graphgrad-lm-onnx/1'

/** The graph's input names, in order, and its output names. */
export const ONNX_INPUTS = ['tokens', 'h0', 'c0'] as const
export const ONNX_OUTPUTS = ['logits', 'hN', 'cN'] as const

/** What the vocabulary file says. */
export interface OnnxSidecar {
  readonly vocabulary: Vocabulary
  /** LSTM layers and hidden size: the shape [layers, batch, hidden] of h0 and c0. */
  readonly layers: number
  readonly hidden: number
}

/** The vocabulary file of the ONNX file `onnx`: `.onnx` replaced by `.vocab.json` (appended to other names). */
export function sidecarPath(onnx: string): string {
  return onnx.endsWith('.onnx') ? `${onnx.slice(0, -'.onnx'.length)}.vocab.json` : `${onnx}.vocab.json`
}

/** The text of the vocabulary file for the ONNX bytes `bytes`. */
export function encodeSidecar(onnx: string, bytes: Uint8Array, sidecar: OnnxSidecar, source: { readonly checkpoint: string; readonly step: number }): string {
  const body = {
    format: FORMAT,
    onnx: { file: basename(onnx), bytes: bytes.length, sha256: sha256(bytes) },
    vocabulary: sidecar.vocabulary.chars,
    layers: sidecar.layers,
    hidden: sidecar.hidden,
    inputs: ONNX_INPUTS,
    outputs: ONNX_OUTPUTS,
    exportedFrom: source,
  }
  return `${JSON.stringify(body, null, 1)}\n`
}

/** Reads the vocabulary file `text` (at `path`) and checks that it belongs to the ONNX bytes `bytes` (from `onnx`). */
export function readSidecar(text: string, path: string, onnx: string, bytes: Uint8Array): OnnxSidecar {
  const r = JsonReader.parse(text, path)
  const format = r.string('format')
  if (format !== FORMAT) throw new LmError(`${path}: format '${format}' is not '${FORMAT}'`)
  const file = r.object('onnx')
  if (file.int('bytes') !== bytes.length || file.string('sha256') !== sha256(bytes)) {
    throw new LmError(`${onnx} is not the model ${path} was written for (its size or SHA-256 differs): export again with pnpm lm export`)
  }
  const chars = r.array('vocabulary', 'strings', isString)
  if (chars.length === 0 || chars.some((c) => [...c].length !== 1)) throw new LmError(`${path}: 'vocabulary' must list single characters`)
  return { vocabulary: new Vocabulary(chars), layers: r.int('layers', 1, LIMITS.layers), hidden: r.int('hidden', 1, LIMITS.hidden) }
}
