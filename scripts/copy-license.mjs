// prepack: each package's tarball carries the repository's LICENSE (one file to keep, not four copies).
import { copyFileSync } from 'node:fs'

copyFileSync(new URL('../LICENSE', import.meta.url), 'LICENSE')
