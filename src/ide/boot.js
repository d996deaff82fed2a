/*
 * c360's GraphiQL page: mounts the IDE shipped with the gateway (React, ReactDOM, GraphiQL and
 * graphql-sse's client come from /ide/ on this server, never a CDN). Settings come from the page's JSON block, so the page
 * needs no inline script and its Content-Security-Policy can say `script-src 'self'`.
 *
 * The schema depends on the caller's role, so it can only be loaded once a key is in the headers:
 * when the headers change (and parse), the page hands GraphiQL a new fetcher, which makes it load
 * the schema again with them (completion and docs for that role).
 *
 * Headers hold the caller's API key, so none reaches the browser's storage: GraphiQL keeps tabs
 * without headers (`shouldPersistHeaders: false`) but writes each history entry with its headers,
 * key included, to localStorage, where it would outlive the tab. The storage GraphiQL is given
 * blanks every header value of history entries (and of those an older page left), unless the user
 * turns on "Persist headers" in GraphiQL's settings. An entry of this page load still restores its
 * headers (GraphiQL keeps them in memory); one from an earlier load restores the header names only.
 *
 * Operations hold the people they look up (`customerByIdentifier(kind: PHONE, value: "…")`, or
 * the same in variables), so what a user typed (tabs, query, variables, history) is kept in the
 * tab's sessionStorage: a reload restores it, closing the tab forgets it, and nothing of it stays
 * on a shared workstation's disk for the next user of the browser. Favorites, starred on purpose,
 * and GraphiQL's settings stay in localStorage.
 */
/*
 * A subscription (the change feed) is served over Server-Sent Events at its own endpoint, not at
 * /graphql: the page sends subscriptions there with graphql-sse's client and the same headers, and
 * shows each change as it comes. Stopping it in the IDE closes the stream (a principal may hold
 * only a few); a refusal (401, 403, 429) shows the gateway's coded answer, as for a query.
 *
 * No schema is asked for while the headers carry no credentials (the page opens with an empty
 * key): the answer could only be 401, which GraphiQL would show in the result pane and leave there
 * once a key had loaded the schema. A failed load (a wrong key) still shows; the schema's next load
 * clears it.
 */
/* global document, React, ReactDOM, GraphiQL, graphqlSse */
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('c360-ide-settings').textContent);
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var lastHeaders = JSON.stringify(JSON.parse(settings.headers));
  var timer = null;
  var storage = historyWithoutSecrets();
  /** The result pane's text for the last failed schema load (GraphiQL's formatting), until a schema loads. */
  var schemaFailure = null;

  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher(),
        // null: no introspection. With "Persist headers" on, GraphiQL restores a key this page has not seen.
        schema: hasCredentials(lastHeaders) || (storage && storage.getItem('graphiql:shouldPersistHeaders') === 'true') ? undefined : null,
        onSchemaChange: clearSchemaFailure,
        defaultHeaders: settings.headers,
        defaultQuery: settings.query,
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        storage: storage,
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

  /** Whether some header has a value (normalized JSON text of the headers). */
  function hasCredentials(headers) {
    var parsed = JSON.parse(headers);
    return Object.keys(parsed || {}).some(function (name) {
      return parsed[name] !== '' && parsed[name] !== null;
    });
  }

  function clearSchemaFailure() {
    var pane = document.querySelector('.result-window .CodeMirror');
    if (schemaFailure !== null && pane && pane.CodeMirror && pane.CodeMirror.getValue() === schemaFailure) pane.CodeMirror.setValue('');
    schemaFailure = null;
  }

  /** Queries and mutations to /graphql, subscriptions to the stream endpoint. */
  function fetcher() {
    var http = GraphiQL.createFetcher({ url: settings.endpoint });
    return function (params, opts) {
      if (isSubscription(params)) return subscribe(params, (opts && opts.headers) || {});
      var answer = http(params, opts);
      if (params.operationName !== 'IntrospectionQuery') return answer;
      return Promise.resolve(answer).then(function (result) {
        if (!(result && result.data && result.data.__schema)) schemaFailure = JSON.stringify(result, null, 2);
        return result;
      });
    };
  }

  /**
   * Whether the operation to run is a subscription, read from the text being sent (GraphiQL's own
   * parse of the editor lags a keystroke behind). One that does not parse, or names no single
   * operation, goes to /graphql, which says what is wrong.
   */
  function isSubscription(params) {
    try {
      var operation = GraphiQL.GraphQL.getOperationAST(GraphiQL.GraphQL.parse(params.query), params.operationName || undefined);
      return !!operation && operation.operation === 'subscription';
    } catch {
      return false;
    }
  }

  /**
   * One subscription over its own SSE connection, as the async iterator GraphiQL reads. Its
   * `return` (GraphiQL's stop button) aborts the request at once, even while no change is
   * arriving. A refusal ends it with the gateway's JSON answer as the last result.
   */
  function subscribe(params, headers) {
    // graphql-sse drops a refused response's body; its coded JSON is read here first.
    var refusal = null;
    var client = graphqlSse.createClient({
      url: settings.streamEndpoint,
      headers: headers,
      retryAttempts: 0,
      fetchFn: function (url, init) {
        return fetch(url, init).then(function (res) {
          if (res.ok) return res;
          return res.json().then(
            function (body) {
              if (body && Array.isArray(body.errors)) refusal = body;
              return res;
            },
            function () {
              return res;
            },
          );
        });
      },
    });
    var results = client.iterate(params);
    var finished = false;
    var finish = function () {
      finished = true;
      client.dispose();
    };
    var iterator = {
      next: function () {
        if (finished) return Promise.resolve({ done: true, value: undefined });
        return results.next().then(
          function (step) {
            if (step.done) finish();
            return step;
          },
          function (error) {
            finish();
            return { done: false, value: refusal || { errors: [{ message: String((error && error.message) || error) }] } };
          },
        );
      },
      return: function () {
        finish();
        return results.return();
      },
    };
    iterator[Symbol.asyncIterator] = function () {
      return iterator;
    };
    return iterator;
  }

  /**
   * GraphiQL's storage: its settings in localStorage; what a user typed (tabs, the query, variables,
   * the history) in sessionStorage, so that it survives a reload but not the tab (see the header);
   * favorites, which the user keeps on purpose, in localStorage. Header values of history entries and
   * favorites are blanked. Null when the browser refuses storage.
   */
  function historyWithoutSecrets() {
    var local;
    try {
      local = localStorage;
      local.getItem('graphiql:queries');
    } catch {
      return null;
    }
    var session = sessionOrMemory();
    var HISTORY = ['graphiql:queries', 'graphiql:favorites'];
    /** Keys holding operations as typed: a phone searched for is in the query or its variables. */
    var TYPED = ['graphiql:tabState', 'graphiql:query', 'graphiql:variables', 'graphiql:operationName', 'graphiql:headers', 'graphiql:queries'];
    var where = function (key) {
      return TYPED.indexOf(key) >= 0 ? session : local;
    };
    var keepsHeaders = function () {
      return local.getItem('graphiql:shouldPersistHeaders') === 'true';
    };
    var blanked = function (headers) {
      try {
        var parsed = JSON.parse(headers);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
        Object.keys(parsed).forEach(function (name) {
          parsed[name] = '';
        });
        return JSON.stringify(parsed);
      } catch {
        return undefined;
      }
    };
    // A history list is `{"queries": [{query, variables, headers, …}]}` (favorites likewise).
    var redacted = function (value) {
      var list;
      try {
        list = JSON.parse(value);
      } catch {
        return null;
      }
      Object.keys(list || {}).forEach(function (k) {
        if (!Array.isArray(list[k])) return;
        list[k].forEach(function (entry) {
          if (entry && typeof entry.headers === 'string') entry.headers = blanked(entry.headers);
        });
      });
      return JSON.stringify(list);
    };
    var ours = function (store) {
      var keys = [];
      for (var i = 0; i < store.length; i++) if (String(store.key(i)).indexOf('graphiql:') === 0) keys.push(store.key(i));
      return keys;
    };
    var storage = {
      getItem: function (key) {
        return where(key).getItem(key);
      },
      setItem: function (key, value) {
        if (HISTORY.indexOf(key) >= 0 && !keepsHeaders()) value = redacted(value);
        if (value === null) where(key).removeItem(key);
        else where(key).setItem(key, value);
      },
      removeItem: function (key) {
        where(key).removeItem(key);
      },
      clear: function () {
        [local, session].forEach(function (store) {
          ours(store).forEach(function (key) {
            store.removeItem(key);
          });
        });
      },
      get length() {
        return ours(local).length + ours(session).length;
      },
    };
    // What an older version of this page left on disk: typed operations move to this tab's session
    // (the disk copy is deleted), history entries and favorites lose the keys they were stored with.
    TYPED.forEach(function (key) {
      var value = local.getItem(key);
      if (value === null) return;
      local.removeItem(key);
      if (session.getItem(key) === null) storage.setItem(key, value);
    });
    HISTORY.forEach(function (key) {
      var value = storage.getItem(key);
      if (value !== null) storage.setItem(key, value);
    });
    return storage;
  }

  /** This tab's sessionStorage, or a map of this page load where the browser refuses it. */
  function sessionOrMemory() {
    try {
      sessionStorage.getItem('graphiql:query');
      return sessionStorage;
    } catch {
      var items = {};
      return {
        getItem: function (key) {
          return Object.prototype.hasOwnProperty.call(items, key) ? items[key] : null;
        },
        setItem: function (key, value) {
          items[key] = String(value);
        },
        removeItem: function (key) {
          delete items[key];
        },
        key: function (i) {
          return Object.keys(items)[i];
        },
        get length() {
          return Object.keys(items).length;
        },
      };
    }
  }

  render();
})();
