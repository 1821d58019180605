/**
 * A small training text, written for this example: what the essay behind graphgrad says
 * about recurrent networks, repeated in slightly different words so a tiny model can learn it.
 */
export const CORPUS = `
a recurrent network keeps a memory. at every step it reads one token and mixes it with
what it remembers: the new state is the input times u plus the old state times w, passed
through a squashing function. the same u and w are used at every step, so the network can
read a sequence of any length. the output at each step is the state times v, turned into
probabilities over the next token.
to train it, unroll the steps into one long graph and apply the chain rule from the last
loss back to the first input. this is backpropagation through time. the gradient that
reaches an early step has been multiplied by w again and again, so it fades away, and a
plain recurrent network forgets what it saw long ago.
the lstm fixes this with a cell state and three gates. the forget gate decides how much of
the cell to keep. the input gate decides how much of the new candidate to write. the output
gate decides how much of the squashed cell to show as the hidden state. because the cell is
changed by adding, not by multiplying, the gradient can flow across many steps.
a network that predicts the next token from the ones before it is a language model. feed
it a prompt, sample the next token, feed that token back in, and it writes text of its own.
`.replace(/\s+/g, ' ').trim()
