// A JSON value as collapsible, indented text: every key and value is a text
// node (never HTML), so a payload holding markup shows the markup.

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span class="json-null">null</span>;
  if (typeof value === 'string') return <span class="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === 'number' || typeof value === 'boolean')
    return <span class="json-literal">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

export function JsonView({ value, depth = 0 }: { value: unknown; depth?: number }) {
  if (value === null || typeof value !== 'object') return <Scalar value={value} />;
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((item, index) => [String(index), item])
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <span>{open + close}</span>;
  const n = entries.length;
  const label = isArray ? `${n} item${n === 1 ? '' : 's'}` : `${n} key${n === 1 ? '' : 's'}`;
  return (
    <details class="json" open={depth < 3}>
      <summary>
        {open} <span class="json-count">{label}</span>
      </summary>
      <ul>
        {entries.map(([key, item]) => (
          <li key={key}>
            {isArray ? null : <span class="json-key">{JSON.stringify(key)}: </span>}
            <JsonView value={item} depth={depth + 1} />
          </li>
        ))}
      </ul>
      <span>{close}</span>
    </details>
  );
}
