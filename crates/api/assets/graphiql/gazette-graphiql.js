// Starts GraphiQL on the page's #graphiql element against the endpoint it names. Kept out of
// the HTML so the page's Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var url = new URL(root.dataset.endpoint || "/graphql", window.location.origin).toString();
  var fetcher = GraphiQL.createFetcher({ url: url });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
