//! Name lookup for outbound fetches, checked before use: reqwest asks [`Pinned`] for a host's
//! addresses, and gets them only if every one may be reached, so the addresses checked are the
//! ones it connects to, from a single lookup.

use super::address::allowed;
use super::error::FetchError;
use ipnet::IpNet;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// The future a [`Resolver`] returns.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into addresses. The default asks the system; tests give their own.
pub trait Resolver: Send + Sync {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a>;
}

/// The system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host, 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

/// The resolver reqwest is built with: looks the name up once and hands back the addresses
/// only if all of them pass, since any one of them may be the one connected to.
pub(super) struct Pinned {
    pub resolver: Arc<dyn Resolver>,
    pub allow: Arc<[IpNet]>,
}

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (resolver, allow) = (self.resolver.clone(), self.allow.clone());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = checked(&*resolver, &host, &allow).await?;
            // Port 0 is replaced by the URL's port (or the scheme's) when connecting.
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The addresses of `host`, or why they may not be used.
async fn checked(
    resolver: &dyn Resolver,
    host: &str,
    allow: &[IpNet],
) -> Result<Vec<IpAddr>, FetchError> {
    let ips = resolver
        .lookup(host)
        .await
        .map_err(|err| FetchError::Lookup {
            host: host.to_owned(),
            reason: err.to_string(),
        })?;
    if ips.is_empty() {
        return Err(FetchError::Lookup {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        });
    }
    match ips.iter().find(|&&ip| !allowed(ip, allow)) {
        Some(&ip) => Err(FetchError::Blocked(ip)),
        None => Ok(ips),
    }
}
