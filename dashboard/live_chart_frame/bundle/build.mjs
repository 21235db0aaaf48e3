// node build.mjs: writes ../plotly-bundle.min.js with the settings of plotly.js's own build
// (its esbuild-config.js: the same plugins, aliases and target), minified, licences at the end.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { environmentPlugin } from 'esbuild-plugin-environment';
import { glsl } from 'esbuild-plugin-glsl';
import InlineCSSPlugin from 'esbuild-plugin-inline-css';

const { version } = JSON.parse(readFileSync('node_modules/plotly.js/package.json', 'utf8'));
// dashboard/live_chart.py reads the version from this first comment, as from plotly.py's plotly.min.js
const banner = `/**
* plotly.js (EM Lab's live charts: cartesian and scattergl - minified) v${version}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
* Built by dashboard/live_chart_frame/bundle/build.mjs
*/`;

await build({
    entryPoints: ['./entry.js'],
    outfile: '../plotly-bundle.min.js',
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    banner: { js: banner },
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'info',
});
