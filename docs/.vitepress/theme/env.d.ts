// Lets TypeScript (editors, a typecheck that includes the theme) read `.vue` imports.
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
