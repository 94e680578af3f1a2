// The list's filters. Every change rewrites the URL's query string, which is
// the one source of the list's state.
import { useEffect, useState } from 'preact/hooks';

import { EMPTY, type Filters, type Range, isEmpty } from '../filters';

export interface Facets {
  actions: { value: string; count: number }[];
  actors: { actorId: string; name: string | null; count: number }[];
}

interface Props {
  filters: Filters;
  facets: Facets | null;
  onChange: (filters: Filters) => void;
}

const RANGES: [Range, string][] = [
  ['', 'Any time'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['custom', 'Custom range'],
];

/** A text input applied on Enter or when it loses focus (not on each key). */
function TextFilter({ id, label, value, onApply, type = 'text', list }: {
  id: string; label: string; value: string; onApply: (value: string) => void; type?: string; list?: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  // Read from the input itself: a date picker fires `input` and `change`
  // together, before the state of the first one is rendered.
  const apply = (event: Event) => {
    const current = (event.currentTarget as HTMLInputElement).value.trim();
    if (current !== value) onApply(current);
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={text}
        list={list}
        autocomplete="off"
        onInput={(event) => setText((event.target as HTMLInputElement).value)}
        onChange={apply}
        onKeyDown={(event) => event.key === 'Enter' && apply(event)}
      />
    </div>
  );
}

export function FilterBar({ filters, facets, onChange }: Props) {
  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });
  const toggleAction = (action: string, on: boolean) =>
    set({ actions: on ? [...filters.actions, action] : filters.actions.filter((a) => a !== action) });
  const actions = facets?.actions ?? [];
  // Selected actions stay listed even when the facets no longer count them.
  const listed = [...actions.map((a) => a.value), ...filters.actions.filter((a) => !actions.some((x) => x.value === a))];
  return (
    <form class="filters" role="search" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
      <TextFilter id="filter-search" label="Search" type="search" value={filters.search} onApply={(search) => set({ search })} />
      <div class="field">
        <label for="filter-range">Date</label>
        <select id="filter-range" value={filters.range} onChange={(event) => set({ range: (event.target as HTMLSelectElement).value as Range })}>
          {RANGES.map(([value, label]) => (
            <option value={value} key={value}>{label}</option>
          ))}
        </select>
      </div>
      {filters.range === 'custom' && (
        <>
          <TextFilter id="filter-from" label="From" type="datetime-local" value={filters.from} onApply={(from) => set({ from })} />
          <TextFilter id="filter-to" label="To" type="datetime-local" value={filters.to} onApply={(to) => set({ to })} />
        </>
      )}
      <details class="field actions-menu">
        <summary>Actions{filters.actions.length ? ` (${filters.actions.length})` : ''}</summary>
        <fieldset>
          <legend>Actions</legend>
          {listed.length === 0 && <p class="none">No actions recorded yet.</p>}
          {listed.map((action) => {
            const count = actions.find((a) => a.value === action)?.count;
            const id = `action-${action}`;
            return (
              <div class="check" key={action}>
                <input id={id} type="checkbox" checked={filters.actions.includes(action)} onChange={(event) => toggleAction(action, (event.target as HTMLInputElement).checked)} />
                <label for={id}>
                  {action}
                  {count !== undefined && <span class="count"> {count}</span>}
                </label>
              </div>
            );
          })}
        </fieldset>
      </details>
      <TextFilter id="filter-user" label="User" value={filters.actor} list="user-options" onApply={(actor) => set({ actor })} />
      <datalist id="user-options">
        {(facets?.actors ?? []).map((actor) => (
          <option value={actor.actorId} key={actor.actorId}>
            {actor.name ? `${actor.name} (${actor.count})` : `(${actor.count})`}
          </option>
        ))}
      </datalist>
      <TextFilter id="filter-target-type" label="Target type" value={filters.targetType} onApply={(targetType) => set({ targetType })} />
      <TextFilter id="filter-target-id" label="Target id" value={filters.targetId} onApply={(targetId) => set({ targetId })} />
      <div class="field">
        <label for="filter-outcome">Outcome</label>
        <select id="filter-outcome" value={filters.outcome} onChange={(event) => set({ outcome: (event.target as HTMLSelectElement).value as Filters['outcome'] })}>
          <option value="">Any</option>
          <option value="SUCCESS">Success</option>
          <option value="FAILURE">Failure</option>
        </select>
      </div>
      <button type="button" class="secondary" disabled={isEmpty(filters)} onClick={() => onChange(EMPTY)}>
        Clear filters
      </button>
    </form>
  );
}
