//! A TCP proxy on 127.0.0.1 between the service and PostgreSQL, for the fault tests: it
//! passes bytes, cuts (closes every connection and refuses new ones: the port is closed),
//! blackholes (accepts, but forwards nothing in either direction), or delays every chunk.
//!
//! Included by `#[path]` where needed (tests/tests/faults.rs, crates/app/tests/sigterm.rs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards both ways.
    Pass,
    /// Closes every connection and refuses new ones (nothing listens on the port).
    Cut,
    /// Accepts connections and holds them, forwarding nothing; connections that were open
    /// stall. Back to `Pass`, stalled connections go on and held ones are closed.
    Blackhole,
    /// Forwards both ways, each chunk after this delay.
    Delay(Duration),
}

/// The proxy; stops when dropped.
pub struct DbProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl DbProxy {
    /// A proxy to `upstream` on a free loopback port, starting in `mode`.
    pub async fn start(upstream: SocketAddr, mode: Mode) -> Self {
        // Reserve a port: bound once here, rebound after each cut.
        let probe = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = probe.local_addr().expect("its address");
        drop(probe);
        let (tx, rx) = watch::channel(mode);
        let task = tokio::spawn(accept_loop(addr, upstream, rx));
        let proxy = Self {
            addr,
            mode: tx,
            task,
        };
        if mode != Mode::Cut {
            proxy.wait_listening().await;
        }
        proxy
    }

    /// The proxy in front of the PostgreSQL server of `url` (its host must be a loopback
    /// address), starting in `mode`.
    pub async fn in_front_of(url: &str, mode: Mode) -> Self {
        Self::start(upstream_of(url), mode).await
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `url` (a PostgreSQL URL) with its host and port replaced by the proxy's.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}{path}", self.addr)
    }

    /// Changes the mode; from `Cut`, waits until the port accepts again.
    pub async fn set(&self, mode: Mode) {
        let was = *self.mode.borrow();
        self.mode.send_replace(mode);
        if was == Mode::Cut && mode != Mode::Cut {
            self.wait_listening().await;
        }
        if mode == Mode::Cut {
            // Until the port is closed.
            for _ in 0..200 {
                if TcpStream::connect(self.addr).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the proxy still accepts after the cut");
        }
    }

    async fn wait_listening(&self) {
        for _ in 0..200 {
            if TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the proxy does not listen on {}", self.addr);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
        self.task.abort();
    }
}

/// The `host:port` of a PostgreSQL URL, checked to be a loopback address.
fn upstream_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("a URL with a scheme").1;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    let addr: SocketAddr = host_port
        .parse()
        .unwrap_or_else(|_| panic!("the test database must be at a loopback IP: {host_port}"));
    assert!(addr.ip().is_loopback(), "tests dial loopback only: {addr}");
    addr
}

async fn accept_loop(addr: SocketAddr, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    loop {
        // Closed while cut.
        if mode.wait_for(|m| *m != Mode::Cut).await.is_err() {
            return;
        }
        let listener = match bind(addr) {
            Ok(l) => l,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let mut cut_watch = mode.clone();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((client, _)) = accepted {
                        tokio::spawn(connection(client, upstream, mode.clone()));
                    }
                }
                cut = cut_watch.wait_for(|m| *m == Mode::Cut) => {
                    if cut.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
        drop(listener);
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

async fn connection(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let at_accept = *mode.borrow_and_update();
    match at_accept {
        Mode::Cut => return,
        Mode::Blackhole => {
            // Held, never forwarded; closed when the blackhole ends.
            let _ = mode.wait_for(|m| *m != Mode::Blackhole).await;
            drop(client);
            return;
        }
        Mode::Pass | Mode::Delay(_) => {}
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pipe(client_read, server_write, mode.clone()) => {}
        () = pipe(server_read, client_write, mode.clone()) => {}
    }
    // Both halves of both sockets are dropped here: the connection closes.
}

/// Copies one direction chunk by chunk, as the mode allows; ends on EOF, an error or a cut.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut cut = mode.clone();
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = cut.wait_for(|m| *m == Mode::Cut) => return,
        };
        loop {
            let now = *mode.borrow_and_update();
            match now {
                Mode::Pass => break,
                Mode::Delay(d) => {
                    tokio::time::sleep(d).await;
                    break;
                }
                Mode::Cut => return,
                Mode::Blackhole => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
