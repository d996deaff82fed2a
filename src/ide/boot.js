/*
 * c360's GraphiQL page: mounts the IDE shipped with the gateway (React, ReactDOM and GraphiQL come
 * from /ide/ on this server, never a CDN). Settings come from the page's JSON block, so the page
 * needs no inline script and its Content-Security-Policy can say `script-src 'self'`.
 *
 * The schema depends on the caller's role, so it can only be loaded once a key is in the headers:
 * when the headers change (and parse), the page hands GraphiQL a new fetcher, which makes it load
 * the schema again with them (completion and docs for that role).
 */
/* global document, React, ReactDOM, GraphiQL */
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('c360-ide-settings').textContent);
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var lastHeaders = JSON.stringify(JSON.parse(settings.headers));
  var timer = null;

  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher: GraphiQL.createFetcher({ url: settings.endpoint }),
        defaultHeaders: settings.headers,
        defaultQuery: settings.query,
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        onEditHeaders: onEditHeaders,
      }),
    );
  }

  function onEditHeaders(text) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var normalized;
      try {
        normalized = JSON.stringify(JSON.parse(text));
      } catch {
        return; // half-typed: wait for valid JSON
      }
      if (normalized === lastHeaders) return;
      lastHeaders = normalized;
      render();
    }, 500);
  }

  render();
})();
