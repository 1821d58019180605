/**
 * The docs site's theme: VitePress's default theme plus the live figures the pages use,
 * registered globally so any page can write `<GraphView expr="lstm-cell" />` and the like.
 * Every figure computes with graphgrad in the reader's browser, after mounting (never in
 * server rendering).
 * @module
 */
import type { Theme } from 'vitepress'
import DefaultTheme from 'vitepress/theme'
import GraphView from './components/GraphView.vue'
import LstmTrainer from './components/LstmTrainer.vue'
import OptimizerSurface from './components/OptimizerSurface.vue'
import VanishingGradientPlot from './components/VanishingGradientPlot.vue'
import './figures.css'

/** The theme VitePress loads. */
const theme: Theme = {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('GraphView', GraphView)
    app.component('VanishingGradientPlot', VanishingGradientPlot)
    app.component('OptimizerSurface', OptimizerSurface)
    app.component('LstmTrainer', LstmTrainer)
  },
}

export default theme
