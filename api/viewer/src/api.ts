// GraphQL over HTTP, with the answer classified the way the pages react.
import { authHeaders } from './auth';

export class ApiError extends Error {
  constructor(
    message: string,
    /** `extensions.code`, e.g. UNAUTHENTICATED, UNAVAILABLE, FORBIDDEN. */
    readonly code: string,
  ) {
    super(message);
  }
}

const signedOutListeners = new Set<(error: ApiError) => void>();

/** Called whenever an answer says the credential no longer works. */
export function onSignedOut(listener: (error: ApiError) => void) {
  signedOutListeners.add(listener);
}

export function signedOut(error: ApiError) {
  for (const listener of signedOutListeners) listener(error);
}

/**
 * Runs `query`; an UNAUTHENTICATED answer also tells the `onSignedOut`
 * listeners, unless `notify` is false (the sign-in check handles its own).
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, notify = true): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The service cannot be reached.', 'UNAVAILABLE');
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The service answered ${response.status}.`, response.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL_SERVER_ERROR');
  }
  const first = body.errors?.[0];
  if (first) {
    const error = new ApiError(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
    if (notify && error.code === 'UNAUTHENTICATED') signedOut(error);
    throw error;
  }
  if (!body.data) throw new ApiError('The answer had no data.', 'INTERNAL_SERVER_ERROR');
  return body.data;
}
