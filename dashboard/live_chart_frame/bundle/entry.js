'use strict';
// The traces of plotly.js's cartesian bundle (lib/index-cartesian.js), and scattergl: the matrix page's
// users' map draws more than 1,000 users with WebGL (dashboard/mixture_figures.py). The list is
// dashboard/live_chart.py's BUNDLE_TRACES; tests/test_live_chart.py reads the built file's.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/box'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/histogram'),
    require('plotly.js/lib/histogram2d'),
    require('plotly.js/lib/histogram2dcontour'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/scatterternary'),
    require('plotly.js/lib/violin'),
    require('plotly.js/lib/image'),
    require('plotly.js/lib/pie'),
    require('plotly.js/lib/scattergl'),

    require('plotly.js/lib/calendars'),
]);

module.exports = Plotly;
