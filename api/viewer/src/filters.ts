// The list's filters, kept in the URL's query string (so a filtered list is a
// shareable link), and their translation into an AuditEventFilter.

export type Range = '' | '24h' | '7d' | '30d' | 'custom';

export interface Filters {
  range: Range;
  /** Custom range bounds, as `<input type="datetime-local">` values (local time). */
  from: string;
  to: string;
  actions: string[];
  actor: string;
  targetType: string;
  targetId: string;
  outcome: '' | 'SUCCESS' | 'FAILURE';
  search: string;
}

export const EMPTY: Filters = {
  range: '', from: '', to: '', actions: [], actor: '', targetType: '', targetId: '', outcome: '', search: '',
};

export function parseFilters(query: string): Filters {
  const params = new URLSearchParams(query);
  const range = params.get('range') ?? '';
  const outcome = params.get('outcome') ?? '';
  return {
    range: (['24h', '7d', '30d', 'custom'].includes(range) ? range : '') as Range,
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    actions: params.getAll('action').filter(Boolean),
    actor: params.get('actor') ?? '',
    targetType: params.get('targetType') ?? '',
    targetId: params.get('targetId') ?? '',
    outcome: (outcome === 'SUCCESS' || outcome === 'FAILURE' ? outcome : '') as Filters['outcome'],
    search: params.get('q') ?? '',
  };
}

export function filtersQuery(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.range) params.set('range', filters.range);
  if (filters.range === 'custom') {
    if (filters.from) params.set('from', filters.from);
    if (filters.to) params.set('to', filters.to);
  }
  for (const action of filters.actions) params.append('action', action);
  if (filters.actor) params.set('actor', filters.actor);
  if (filters.targetType) params.set('targetType', filters.targetType);
  if (filters.targetId) params.set('targetId', filters.targetId);
  if (filters.outcome) params.set('outcome', filters.outcome);
  if (filters.search) params.set('q', filters.search);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function isEmpty(filters: Filters): boolean {
  return filtersQuery(filters) === '';
}

const HOURS: Record<string, number> = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 };

function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The AuditEventFilter of `filters` now (presets are relative to now). */
export function toEventFilter(filters: Filters, now = Date.now()): Record<string, unknown> | null {
  const filter: Record<string, unknown> = {};
  const hours = HOURS[filters.range];
  if (hours) filter.occurredAfter = new Date(now - hours * 3600_000).toISOString();
  if (filters.range === 'custom') {
    const after = localToIso(filters.from);
    const before = localToIso(filters.to);
    if (after) filter.occurredAfter = after;
    if (before) filter.occurredBefore = before;
  }
  if (filters.actions.length) filter.actions = filters.actions;
  if (filters.actor) filter.actorIds = [filters.actor];
  if (filters.targetType) filter.targetType = filters.targetType;
  if (filters.targetId) filter.targetId = filters.targetId;
  if (filters.outcome) filter.outcome = filters.outcome;
  if (filters.search) filter.search = filters.search;
  return Object.keys(filter).length ? filter : null;
}
