// Lets TypeScript (editors, a typecheck that includes the theme) read `.vue` imports.
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// Vite's `?url` imports: the URL the built site serves the file at (see demos/onnx-run.ts).
declare module '*?url' {
  const url: string
  export default url
}
