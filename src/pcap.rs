//! A pcapng writer for raw IPv4 packets (`--pcap FILE`), shared by live mode
//! and the demo.
//!
//! One interface of link type LINKTYPE_RAW (101: the packet starts with the
//! IP header, which is what a TUN without packet info gives), nanosecond
//! timestamps (`if_tsresol` = 9, because pcap-file writes the enhanced packet
//! block's timestamp in nanoseconds), the direction in `epb_flags`
//! (pcapng spec §4.3.1: bits 0-1, 1 = inbound, 2 = outbound) and an optional
//! `opt_comment` per packet (Wireshark shows it as `frame.comment`), which
//! tcpscope uses to mark packets that its fault injector dropped or held.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

use crate::event::Dir;

/// Writes packets to a pcapng stream.
pub struct PcapWriter<W: Write = BufWriter<File>> {
    inner: PcapNgWriter<W>,
}

fn to_io(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl PcapWriter<BufWriter<File>> {
    /// Create (truncate) `path`. `if_name` names the capture interface in the
    /// file (the TUN's name live, `wire` in the demo).
    pub fn create(path: &Path, if_name: &str) -> io::Result<Self> {
        PcapWriter::new(BufWriter::new(File::create(path)?), if_name)
    }
}

impl<W: Write> PcapWriter<W> {
    pub fn new(out: W, if_name: &str) -> io::Result<Self> {
        let mut inner = PcapNgWriter::new(out).map_err(to_io)?;
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Owned(if_name.to_string())),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        inner.write_pcapng_block(idb).map_err(to_io)?;
        Ok(PcapWriter { inner })
    }

    /// One packet: `timestamp` since the Unix epoch (live) or since the
    /// start of the run (demo, virtual time); `dir` as the reporting host
    /// sees it; `comment` for anything a reader should know about it.
    pub fn write(
        &mut self,
        timestamp: Duration,
        dir: Option<Dir>,
        bytes: &[u8],
        comment: Option<&str>,
    ) -> io::Result<()> {
        let mut options = Vec::new();
        if let Some(d) = dir {
            options.push(EnhancedPacketOption::Flags(match d {
                Dir::In => 1,
                Dir::Out => 2,
            }));
        }
        if let Some(c) = comment {
            options.push(EnhancedPacketOption::Comment(Cow::Borrowed(c)));
        }
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            timestamp,
            original_len: bytes.len() as u32,
            data: Cow::Borrowed(bytes),
            options,
        };
        self.inner.write_pcapng_block(epb).map_err(to_io)?;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.get_mut().flush()
    }

    pub fn into_inner(self) -> W {
        self.inner.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::{Block, PcapNgReader};

    #[test]
    fn round_trip_with_comment_and_direction() {
        let mut w = PcapWriter::new(Vec::new(), "tcpscope0").unwrap();
        let pkt = [
            0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        w.write(Duration::from_micros(1_500_000), Some(Dir::In), &pkt, None)
            .unwrap();
        w.write(
            Duration::from_secs(2),
            Some(Dir::Out),
            &pkt[..19],
            Some("dropped"),
        )
        .unwrap();
        let bytes = w.into_inner();
        let mut r = PcapNgReader::new(&bytes[..]).unwrap();
        let mut seen = Vec::new();
        while let Some(b) = r.next_block() {
            if let Block::EnhancedPacket(p) = b.unwrap() {
                seen.push((
                    p.timestamp,
                    p.data.len(),
                    p.options
                        .clone()
                        .into_iter()
                        .map(|o| format!("{o:?}"))
                        .collect::<Vec<_>>(),
                ));
            }
        }
        assert_eq!(r.interfaces()[0].linktype, DataLink::RAW);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, Duration::from_micros(1_500_000));
        assert_eq!(seen[0].1, 20);
        assert_eq!(seen[0].2, vec!["Flags(1)".to_string()]);
        assert_eq!(
            seen[1].2,
            vec!["Flags(2)".to_string(), "Comment(\"dropped\")".to_string()]
        );
    }
}
