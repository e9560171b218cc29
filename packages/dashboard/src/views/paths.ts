/** A query string's values; undefined and '' are left out. */
export type Query = Readonly<Record<string, string | number | undefined>>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/**
 * Every URL the pages link to. Ids and filter values (captured, so hostile) only ever enter
 * a URL percent-encoded, as a path segment or a query value, never as a whole href.
 */
export function dashboardPaths(prefix: string) {
  const id = (value: string) => encodeURIComponent(value);
  return {
    prefix,
    root: (query?: Query) => withQuery(prefix, query),
    login: (next?: string) => withQuery(`${prefix}/login`, { next }),
    logout: () => `${prefix}/logout`,
    requests: (query?: Query) => withQuery(`${prefix}/requests`, query),
    request: (captureId: string, query?: Query) =>
      withQuery(`${prefix}/requests/${id(captureId)}`, query),
    preview: (captureId: string) => `${prefix}/requests/${id(captureId)}/replay/preview`,
    replay: (captureId: string) => `${prefix}/requests/${id(captureId)}/replay`,
    conflicts: (query?: Query) => withQuery(`${prefix}/conflicts`, query),
    failures: (query?: Query) => withQuery(`${prefix}/failures`, query),
  } as const;
}

export type DashboardPaths = ReturnType<typeof dashboardPaths>;

/**
 * Where to go after logging in: a dashboard page (`next` as the login redirect carried it),
 * else the overview. Anything that could leave the dashboard — another origin, `//host`, a
 * backslash trick, another path — falls back to the overview.
 */
export function safeNext(prefix: string, next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return prefix;
  if (/[\\\s]/.test(next) || next.startsWith('//')) return prefix;
  if (next === prefix) return next;
  const rest = next.slice(prefix.length);
  return next.startsWith(prefix) &&
    (rest.startsWith('/') || rest.startsWith('?')) &&
    !rest.startsWith('//')
    ? next
    : prefix;
}
