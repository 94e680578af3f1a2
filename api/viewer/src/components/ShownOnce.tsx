// A secret shown once, right after it was made (an API key, a stream's
// signing secret): read-only, with a copy button and the warning that it will
// not be shown again. The copy's outcome goes to the caller's status line.
import type { ComponentChildren } from 'preact';

export function ShownOnce({ label, secret, onStatus, onDone, children }: {
  /** The region's name, e.g. "New key secret". */
  label: string;
  secret: string;
  onStatus: (text: string) => void;
  onDone: () => void;
  /** What else to know about this secret. */
  children?: ComponentChildren;
}) {
  const copy = () =>
    navigator.clipboard.writeText(secret).then(
      () => onStatus('Secret copied.'),
      () => onStatus('Copying is blocked here: select the secret instead.'),
    );
  return (
    <div class="secret" role="region" aria-label={label}>
      <p>Copy the secret now: it is shown once and will not be shown again.</p>
      {children}
      <input aria-label="Secret" class="mono" readOnly value={secret} />{' '}
      <button type="button" onClick={copy}>Copy secret</button>{' '}
      <button type="button" class="secondary" onClick={onDone}>Done</button>
    </div>
  );
}
