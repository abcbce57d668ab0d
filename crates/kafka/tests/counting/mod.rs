//! A connector that counts the connections a cluster opens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_kafka::connection::{ConnectFuture, Connector, TcpConnector};
use ferry_kafka::{ClientConfig, Cluster};

/// Counts the transports it opens.
#[derive(Debug, Default)]
pub struct Counting(AtomicUsize);

impl Counting {
    pub fn opened(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Connector for Counting {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> ConnectFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        TcpConnector.connect(host, port)
    }
}

/// A cluster bootstrapping from `bootstrap` whose connections are counted.
pub fn counted_cluster(bootstrap: &str) -> (Cluster, Arc<Counting>) {
    let counting = Arc::new(Counting::default());
    let config = ClientConfig::from_pairs([("bootstrap.servers", bootstrap)]).unwrap();
    (Cluster::with_connector(config, counting.clone()), counting)
}
