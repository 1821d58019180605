/**
 * The live demo's starting text, apart from the model so the page can show it without
 * loading the library (the worker loads that).
 * @module
 */

/** The default text in the page's editor: short, and repetitive enough to learn in a minute. */
export const DEFAULT_TEXT = `the cat sat on the mat. the dog sat on the log. the cat saw the dog and the dog saw the cat.
a recurrent network reads one character at a time and keeps a memory of what it has read.
at every step it mixes the new character with its memory and guesses the next character.
the lstm keeps its memory in a cell, and gates decide what to forget, what to write and what to show.
the forget gate keeps the old memory, the input gate writes the new one, the output gate shows it.
gradients flow back through the cell from step to step, so the lstm can learn what came long before.
the cat sat on the mat and the dog sat on the log, and the lstm learned to say so.
edit this text and press start again: the model learns whatever you write here.
`
