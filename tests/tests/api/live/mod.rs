//! Live events (issue 3): GraphQL subscriptions over WebSocket.
//!
//! - [`delivery`]: order, filters, replay with `afterSequence`, tenant isolation;
//! - [`resume`]: reconnecting during continuous ingestion loses and repeats nothing;
//! - [`protocol`]: graphql-transport-ws close codes, ping/pong, legacy subprotocol,
//!   lagging subscribers;
//! - [`processes`]: several server processes on one PostgreSQL, and SIGTERM;
//! - [`reference_client`]: the graphql-ws npm client (Node.js) against the server;
//! - [`replay_memory`]: replays on a socket that does not read stay bounded (RSS);
//! - [`open_sockets`]: revocation and retention changes reach open sockets.

mod delivery;
mod open_sockets;
mod processes;
mod protocol;
mod reference_client;
mod replay_memory;
mod resume;
