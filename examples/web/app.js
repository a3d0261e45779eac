// Gazette's reference front page: the article, topic and front pages, each rendered from ONE
// GraphQL request. The request is an automatic persisted query (Apollo APQ) over GET, so a CDN
// can cache it and the browser's HTTP cache revalidates it with If-None-Match on its own (the
// API sends ETag and Cache-Control). Everything is built with DOM nodes and textContent: no
// text from the API is ever parsed as HTML.

const config = {
  api: new URL(meta("gazette-api") || "/graphql", location.href),
  timeZone: meta("gazette-time-zone") || undefined,
};

function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.content?.trim();
}

// ---------------------------------------------------------------------------------------------
// The three queries. Each page asks once; the operation's text is hashed into its persisted id.

const STORY_CARD = "slug headline dek publishedAt primaryTopic { slug name }";
const TOPIC_LIST = "topics(first: 50) { nodes { slug name parent { slug } } }";

const QUERIES = {
  article: `query ArticlePage($slug: String!) {
  article(slug: $slug) {
    slug headline dek source publishedAt substantiveUpdatedAt readingTimeMinutes
    heroImage { url alt caption credit }
    authors { slug name }
    primaryTopic { slug name }
    topics { slug name }
    body {
      __typename
      ... on ParagraphBlock { text }
      ... on HeadingBlock { level text }
      ... on QuoteBlock { text attribution }
      ... on ImageBlock { image { url alt caption credit } }
      ... on EmbedBlock { url provider caption }
    }
    related(first: 4) { ${STORY_CARD} }
  }
  trending(first: 6) { article { ${STORY_CARD} } }
  latest: articles(first: 9) { nodes { ${STORY_CARD} } }
  ${TOPIC_LIST}
}`,
  topic: `query TopicPage($slug: String!) {
  topic(slug: $slug) {
    slug name description
    parent { slug name }
    children { slug name }
    articles(first: 12) { nodes { ${STORY_CARD} source } }
    trending(first: 5) { article { ${STORY_CARD} } }
  }
  ${TOPIC_LIST}
}`,
  front: `query FrontPage {
  articles(first: 13) { nodes { ${STORY_CARD} source heroImage { url alt } } }
  trending(first: 5) { article { ${STORY_CARD} } }
  ${TOPIC_LIST}
}`,
};

const HOT_ITEMS = 5;
const TOPIC_BOX_ITEMS = 8;

// ---------------------------------------------------------------------------------------------
// Fetching: APQ over GET, as Apollo's persisted-query link does.

/** The API did not answer usefully (down, overloaded, or refusing the request). */
class Unavailable extends Error {}

async function graphql(query, variables) {
  const body = await persisted(query, variables);
  if (!body.data) {
    throw new Unavailable((body.errors ?? []).map((e) => e.message).join("; ") || "no data");
  }
  return body;
}

async function persisted(query, variables) {
  const hash = await sha256(query);
  const params = new URLSearchParams({ variables: JSON.stringify(variables) });
  if (!hash) {
    // No Web Crypto (a plain-http origin other than localhost): the whole query, still a GET.
    params.set("query", query);
    return send(`${config.api}?${params}`);
  }
  const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } });
  params.set("extensions", extensions);
  const byHash = await send(`${config.api}?${params}`);
  if (!byHash.errors?.some((e) => e.extensions?.code === "PERSISTED_QUERY_NOT_FOUND")) {
    return byHash;
  }
  // First visitor since the server started: register the query once (POST, as Apollo does);
  // every later GET by hash is then answered, and cacheable.
  return send(config.api, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables, extensions: JSON.parse(extensions) }),
  });
}

async function send(url, init = {}) {
  let response;
  try {
    response = await fetch(url, {
      ...init,
      credentials: "omit",
      headers: { accept: "application/graphql-response+json, application/json", ...init.headers },
    });
  } catch (error) {
    throw new Unavailable(`no answer from ${config.api.host} (${error.message})`);
  }
  const type = response.headers.get("content-type") || "";
  if (response.status >= 500 || response.status === 429 || !type.includes("json")) {
    throw new Unavailable(`${config.api.host} answered ${response.status}`);
  }
  return response.json();
}

async function sha256(text) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Tells the API the article was read (it feeds "Hot this week"); failures do not matter. */
function reportView(slug) {
  fetch(new URL("/v1/views", config.api), {
    method: "POST",
    keepalive: true,
    credentials: "omit",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ slug }),
  }).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// DOM helpers.

/** `h("a", { href }, "text", child)`: an element with attributes and children (text or nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value);
  }
  element.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return element;
}

const articlePath = (slug) => `/articles/${encodeURIComponent(slug)}`;
const topicPath = (slug) => `/topics/${encodeURIComponent(slug)}`;

function longDate(iso) {
  return new Intl.DateTimeFormat("en-US", {
    weekday: "long", year: "numeric", month: "long", day: "numeric", timeZone: config.timeZone,
  }).format(new Date(iso));
}

function shortDate(iso) {
  return new Intl.DateTimeFormat("en-US", {
    month: "short", day: "numeric", year: "numeric", timeZone: config.timeZone,
  }).format(new Date(iso));
}

function time(iso, format) {
  return h("time", { datetime: iso }, format(iso));
}

/** Only http(s) addresses become links or images. */
function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A picture that removes itself (and its frame) when it cannot be loaded. */
function picture(image, className) {
  const src = image && safeUrl(image.url);
  if (!src) return null;
  const credit = image.credit ? h("span", { class: "credit" }, image.credit) : null;
  const figure = h("figure", { class: className },
    h("img", { src, alt: image.alt || "", loading: "lazy", decoding: "async" }),
    image.caption || credit ? h("figcaption", {}, image.caption || "", credit ? " " : "", credit) : null);
  figure.querySelector("img").addEventListener("error", () => figure.remove());
  return figure;
}

/** A story in a list: its topic, headline (a link) and one-line summary. */
function storyCard(story, headingLevel, { date = false } = {}) {
  return h("article", { class: "card" },
    story.primaryTopic
      ? h("a", { class: "kicker", href: topicPath(story.primaryTopic.slug) }, story.primaryTopic.name)
      : null,
    h(`h${headingLevel}`, { class: "card-headline" }, h("a", { href: articlePath(story.slug) }, story.headline)),
    story.dek ? h("p", { class: "card-dek" }, story.dek) : null,
    date && story.publishedAt ? h("p", { class: "card-date" }, time(story.publishedAt, shortDate)) : null);
}

function box(id, title, ...content) {
  return h("section", { class: "box", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

function hotBox(trending, excludeSlug) {
  if (!trending) return box("hot-heading", "Hot this week", h("p", { class: "muted" }, "Not available right now."));
  const stories = trending.map((t) => t.article).filter((a) => a.slug !== excludeSlug).slice(0, HOT_ITEMS);
  return box("hot-heading", "Hot this week",
    stories.length
      ? h("ol", { class: "hot-list" }, stories.map((s) => h("li", {}, storyCard(s, 3))))
      : h("p", { class: "muted" }, "Nothing has been read this week yet."));
}

function topicChips(topics, label) {
  return h("ul", { class: "chips", "aria-label": label },
    topics.map((t) => h("li", {}, h("a", { href: topicPath(t.slug) }, t.name))));
}

/** The header's sections (topics without a parent) and the footer's list of every topic. */
function renderNavigation(topics) {
  const nodes = topics?.nodes ?? [];
  document.getElementById("sections").replaceChildren(
    ...nodes.filter((t) => !t.parent).map((t) => h("li", {}, h("a", { href: topicPath(t.slug) }, t.name))));
  document.getElementById("all-topics").replaceChildren(
    ...nodes.map((t) => h("li", {}, h("a", { href: topicPath(t.slug) }, t.name))));
}

// ---------------------------------------------------------------------------------------------
// Pages.

const main = document.getElementById("main");
const rail = document.getElementById("rail");
const related = document.getElementById("related");

function show({ title, content, rail: railContent = [], related: relatedContent = null }) {
  document.title = title ? `${title} — Gazette` : "Gazette";
  main.replaceChildren(...[content].flat());
  main.removeAttribute("aria-busy");
  rail.replaceChildren(...railContent);
  rail.hidden = railContent.length === 0;
  related.replaceChildren(...(relatedContent ? [relatedContent].flat() : []));
  related.hidden = !relatedContent;
}

async function articlePage(slug) {
  const { data } = await graphql(QUERIES.article, { slug });
  renderNavigation(data.topics);
  const article = data.article;
  if (!article) return notFound();
  if (article.slug !== slug) {
    // An old slug: the story moved. Show its current address.
    history.replaceState(null, "", articlePath(article.slug));
  }
  const authors = article.authors.map((a) => a.name);
  const byline = authors.length > 1
    ? `By ${authors.slice(0, -1).join(", ")} and ${authors.at(-1)}`
    : authors.length ? `By ${authors[0]}` : null;
  const story = h("article", { class: "story" },
    h("header", { class: "story-header" },
      article.publishedAt ? h("p", { class: "dateline" }, time(article.publishedAt, longDate)) : null,
      article.primaryTopic
        ? h("a", { class: "kicker", href: topicPath(article.primaryTopic.slug) }, article.primaryTopic.name)
        : null,
      h("h1", { class: "headline" }, article.headline),
      article.dek ? h("p", { class: "dek" }, article.dek) : null,
      h("p", { class: "source" }, article.source),
      h("p", { class: "byline" },
        byline,
        byline ? h("span", { class: "separator", "aria-hidden": "true" }, " · ") : null,
        `${article.readingTimeMinutes} min read`,
        article.substantiveUpdatedAt
          ? [h("span", { class: "separator", "aria-hidden": "true" }, " · "), "Updated ",
             time(article.substantiveUpdatedAt, shortDate)]
          : null)),
    picture(article.heroImage, "hero"),
    h("div", { class: "story-body" }, (article.body ?? []).map(block)),
    article.topics.length
      ? h("footer", { class: "story-topics" }, h("p", {}, "Filed under"),
          topicChips(article.topics, "Topics of this story"))
      : null);
  const others = (data.latest?.nodes ?? []).filter((a) => a.slug !== article.slug).slice(0, TOPIC_BOX_ITEMS);
  show({
    title: article.headline,
    content: story,
    rail: [
      hotBox(data.trending, article.slug),
      box("topics-heading", "Topics", h("ul", { class: "topic-stories" },
        others.map((s) => h("li", {}, storyCard(s, 3))))),
    ],
    related: [
      h("h2", { id: "related-heading" }, "Related Articles"),
      article.related.length
        ? h("ul", { class: "related-list" }, article.related.map((s) => h("li", {}, storyCard(s, 3, { date: true }))))
        : h("p", { class: "muted" }, "No related stories yet."),
    ],
  });
  reportView(article.slug);
}

function block(b) {
  switch (b.__typename) {
    case "ParagraphBlock":
      return h("p", {}, b.text);
    case "HeadingBlock":
      return h(`h${Math.min(Math.max(b.level, 2), 4)}`, {}, b.text);
    case "QuoteBlock":
      return h("figure", { class: "quote" },
        h("blockquote", {}, h("p", {}, b.text)),
        b.attribution ? h("figcaption", {}, b.attribution) : null);
    case "ImageBlock":
      return picture(b.image, "inline-image");
    case "EmbedBlock": {
      const href = safeUrl(b.url);
      return href
        ? h("p", { class: "embed" }, h("a", { href, rel: "noopener" }, b.caption || b.provider || href))
        : null;
    }
    default:
      return null; // A block type this page does not know yet: left out, never shown raw.
  }
}

async function topicPage(slug) {
  const { data } = await graphql(QUERIES.topic, { slug });
  renderNavigation(data.topics);
  const topic = data.topic;
  if (!topic) return notFound();
  const stories = topic.articles.nodes;
  // The section it belongs to, the topics under it, and its sister topics in that section.
  const everyTopic = data.topics?.nodes ?? [];
  const sisters = everyTopic.filter(
    (t) => topic.parent && t.parent?.slug === topic.parent.slug && t.slug !== topic.slug);
  const nearby = [...(topic.parent ? [topic.parent] : []), ...topic.children, ...sisters];
  show({
    title: topic.name,
    content: [
      h("header", { class: "topic-header" },
        topic.parent ? h("a", { class: "kicker", href: topicPath(topic.parent.slug) }, topic.parent.name) : null,
        h("h1", { class: "headline" }, topic.name),
        topic.description ? h("p", { class: "dek" }, topic.description) : null),
      stories.length
        ? h("ul", { class: "story-grid" }, stories.map((s) => h("li", {}, storyCard(s, 2, { date: true }))))
        : h("p", { class: "muted" }, "No stories in this topic yet."),
    ],
    rail: [
      hotBox(topic.trending, null),
      box("topics-heading", "Topics", topicChips(nearby.length ? nearby : everyTopic, "Topics nearby")),
    ],
  });
}

async function frontPage() {
  const { data } = await graphql(QUERIES.front, {});
  renderNavigation(data.topics);
  const [lead, ...rest] = data.articles.nodes;
  show({
    title: null,
    content: [
      h("h1", { class: "visually-hidden" }, "Gazette: the latest news"),
      lead
        ? h("div", { class: "lead" }, picture(lead.heroImage, "hero"), storyCard(lead, 2, { date: true }))
        : h("p", { class: "muted" }, "Nothing has been published yet."),
      rest.length ? h("ul", { class: "story-grid" }, rest.map((s) => h("li", {}, storyCard(s, 2, { date: true })))) : null,
    ],
    rail: [
      hotBox(data.trending, null),
      box("topics-heading", "Topics", topicChips(data.topics?.nodes ?? [], "Every topic")),
    ],
  });
}

function notFound() {
  show({
    title: "Page not found",
    content: h("section", { class: "state" },
      h("h1", {}, "Page not found"),
      h("p", {}, "There is no story at this address. It may have been moved or taken down."),
      h("p", {}, h("a", { href: "/" }, "Go to the front page"))),
  });
}

function unavailable(error) {
  const retry = h("button", { type: "button" }, "Try again");
  retry.addEventListener("click", () => render());
  show({
    title: "News unavailable",
    content: h("section", { class: "state", role: "alert" },
      h("h1", {}, "The news is not available right now"),
      h("p", {}, "The Gazette API did not answer. Check your connection, or try again in a moment."),
      h("p", { class: "muted" }, `Details: ${error.message}`),
      h("p", {}, retry)),
  });
}

// ---------------------------------------------------------------------------------------------
// Routing: the path says the page; links within the site are followed without reloading.

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function route(path) {
  if (path === "/" || path === "/index.html") return frontPage;
  const match = /^\/(articles|topics)\/([^/]+)$/.exec(path);
  let slug = null;
  try {
    slug = match && decodeURIComponent(match[2]);
  } catch {
    // A malformed escape: not a slug.
  }
  if (!slug || !SLUG.test(slug)) return notFound;
  return match[1] === "articles" ? () => articlePage(slug) : () => topicPage(slug);
}

async function render() {
  main.setAttribute("aria-busy", "true");
  try {
    await route(location.pathname)();
  } catch (error) {
    if (!(error instanceof Unavailable)) console.error(error);
    unavailable(error);
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey
      || event.shiftKey || event.altKey || link.target) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !/^\/(articles|topics)\/|^\/$/.test(url.pathname)) return;
  event.preventDefault();
  history.pushState(null, "", url.pathname);
  render().then(() => {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  });
});
addEventListener("popstate", () => render());

for (const link of document.querySelectorAll(".site-footer a[href^='/']")) {
  // The footer's API links go to the API, wherever it is.
  link.href = new URL(link.getAttribute("href"), config.api).href;
}

// Live notice: the API streams what changes as Server-Sent Events (/v1/live). A story published
// after this page opened is announced politely (role="status") with a link to it; the browser's
// EventSource reconnects by itself with Last-Event-ID, missing nothing. At most one notice: a
// newer story replaces it.
function followLive() {
  if (!("EventSource" in window)) return;
  const opened = Date.now();
  const live = new EventSource(new URL("/v1/live", config.api));
  live.addEventListener("change", (event) => {
    let entry;
    try {
      entry = JSON.parse(event.data);
    } catch {
      return;
    }
    const story = entry?.article;
    if (entry?.action !== "upsert" || typeof story?.slug !== "string"
        || typeof story?.headline !== "string") return;
    const published = Date.parse(story.publishedAt);
    if (!(published >= opened)) return; // An edit of an older story is not news.
    const notice = document.getElementById("live-notice");
    const link = h("a", { href: articlePath(story.slug) }, story.headline);
    notice.replaceChildren("New story: ", link);
    notice.hidden = false;
  });
}

followLive();
render();
