/*
 * c360's GraphiQL page: mounts the IDE shipped with the gateway (React, ReactDOM and GraphiQL come
 * from /ide/ on this server, never a CDN). Settings come from the page's JSON block, so the page
 * needs no inline script and its Content-Security-Policy can say `script-src 'self'`.
 */
/* global document, React, ReactDOM, GraphiQL */
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('c360-ide-settings').textContent);
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: settings.headers,
      defaultQuery: settings.query,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
