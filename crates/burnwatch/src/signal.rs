//! Unix signals as one enum, handled in one place.

use tokio::signal::unix::{SignalKind, signal};

/// What a signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGHUP.
    Reload,
    /// SIGTERM or SIGINT (the signal's name).
    Terminate(&'static str),
}

/// The signal streams the daemon listens to.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install handlers (from then on these signals no longer kill the process by default).
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Terminate("SIGTERM"),
            _ = self.int.recv() => Signal::Terminate("SIGINT"),
            _ = self.hup.recv() => Signal::Reload,
        }
    }

    /// The next SIGTERM or SIGINT, ignoring SIGHUP.
    pub async fn next_terminate(&mut self) -> Signal {
        loop {
            if let signal @ Signal::Terminate(_) = self.next().await {
                return signal;
            }
        }
    }
}
