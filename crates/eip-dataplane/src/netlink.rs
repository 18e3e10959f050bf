//! The fast kernel: map element changes and conntrack deletes over netlink
//! sockets kept open per gateway namespace.
//!
//! Exists because [`NftCli`] pays a process start per change (1.7 ms to add an
//! element) and, worse, the close of `nft`'s netlink socket (13–18 ms to
//! delete one: nf_tables flushes its deferred work when the socket goes). A
//! socket that stays open pays a few microseconds. So:
//!
//! - a delta is one nfnetlink batch (`BATCH_BEGIN … BATCH_END`, one kernel
//!   transaction) of `DELSETELEM` then `NEWSETELEM` (`NLM_F_CREATE|NLM_F_EXCL`),
//!   with the same refusals as the text delta: a missing deleted element or a
//!   present added one fails the whole batch with the kernel's errno;
//! - a full resync still goes through `nft -f` (one transaction that replaces
//!   the table; the sockets address the table by name, so they stay valid);
//! - conntrack entries are dumped and deleted with ctnetlink on the same socket;
//! - reading the table back (drift checks) is a GETTABLE, a chain dump and
//!   three set element dumps (`eip2priv`, `priv2eip`, `visible`), repeated
//!   when the ruleset generation moves meanwhile: unlike `nft -j list table`
//!   it skips the rules and the accounting sets, and no JSON is made.
//!
//! A socket is opened inside `/run/netns/<ns>` by a short-lived thread that
//! enters the namespace; the socket stays there after the thread ends. A
//! socket keeps its namespace alive, so one whose name now points at another
//! namespace (or at none) is closed on the next call, and [`NftNetlink::forget`]
//! closes one at once (call it before deleting a namespace whose veth peers
//! must vanish with it).

use crate::TABLE;
use crate::kernel::{Kernel, KernelError, NftCli};
use crate::render::{Batch, Effect, TableState};
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
    NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_netfilter::conntrack::{ConntrackAttribute, ConntrackMessage, IPTuple, Tuple};
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, DataAttribute, GenMessage, ListAttribute, NfTablesMessage, SetElementAttribute,
    SetElementList, SetElementMessage, TableAttribute, TableMessage,
};
use netlink_packet_netfilter::none::ControlMessage;
use netlink_packet_netfilter::{
    NetfilterHeader, NetfilterMessage, NetfilterMessageInner, NetfilterProtoFamily, NetfilterSubsystem,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

/// Elements per set element message: a message stays around 40 KiB, the
/// whole batch still goes in one `sendmsg` (one transaction).
const CHUNK: usize = 1024;
/// Conntrack deletes sent before their acknowledgements are read, so the
/// acknowledgements never overflow the receive buffer.
const CT_CHUNK: usize = 128;
/// ctnetlink attribute of the conntrack zone (kept when deleting an entry).
const CTA_ZONE: u16 = 18;

/// Element changes over persistent netlink sockets, full resyncs with `nft -f`.
#[derive(Default)]
pub struct NftNetlink {
    conns: Mutex<BTreeMap<String, Conn>>,
    cli: NftCli,
}

struct Conn {
    sock: Socket,
    /// Device and inode of `/run/netns/<ns>` when the socket was opened.
    id: (u64, u64),
    seq: u32,
    sndbuf: usize,
    buf: Vec<u8>,
    /// A second socket in the same namespace, opened on the first read: the
    /// two maps are dumped at once, one on each (see [`Conn::read_table`]).
    aux: Option<Box<Conn>>,
}

fn err(what: &str, e: impl std::fmt::Display) -> KernelError {
    KernelError(format!("{what}: {e}"))
}

fn ns_id(ns: &str) -> io::Result<(u64, u64)> {
    let m = std::fs::metadata(format!("/run/netns/{ns}"))?;
    Ok((m.dev(), m.ino()))
}

impl Conn {
    /// Opens a netfilter socket inside the named namespace.
    fn open(ns: &str) -> Result<Conn, KernelError> {
        let path = format!("/run/netns/{ns}");
        let id = ns_id(ns).map_err(|e| err(&path, e))?;
        let name = ns.to_owned();
        let sock = std::thread::spawn(move || -> io::Result<Socket> {
            crate::enter_netns(&name)?;
            let mut s = Socket::new(NETLINK_NETFILTER)?;
            s.bind_auto()?;
            s.connect(&SocketAddr::new(0, 0))?;
            // Errors need not echo the (possibly large) request back.
            s.set_cap_ack(true)?;
            Ok(s)
        })
        .join()
        .map_err(|_| KernelError(format!("opening a netlink socket in {ns}: thread panicked")))?
        .map_err(|e| err(&format!("opening a netlink socket in {ns}"), e))?;
        let sndbuf = rustix::net::sockopt::socket_send_buffer_size(&sock).unwrap_or(0);
        Ok(Conn { sock, id, seq: 0, sndbuf, buf: Vec::with_capacity(1 << 16), aux: None })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send(&mut self, out: &[u8]) -> io::Result<()> {
        // Netlink refuses a datagram larger than the send buffer.
        if out.len() + 4096 > self.sndbuf {
            let want = (out.len() + 4096).next_power_of_two();
            rustix::net::sockopt::set_socket_send_buffer_size_force(&self.sock, want)
                .or_else(|_| rustix::net::sockopt::set_socket_send_buffer_size(&self.sock, want))?;
            self.sndbuf = rustix::net::sockopt::socket_send_buffer_size(&self.sock)?;
        }
        let n = self.sock.send(out, 0)?;
        if n != out.len() {
            return Err(io::Error::other(format!("short netlink send: {n} of {}", out.len())));
        }
        Ok(())
    }

    /// Receives one datagram and hands each message in it to `f`. `wait`:
    /// block until one arrives; otherwise `Ok(false)` when none is queued.
    fn recv(
        &mut self,
        wait: bool,
        mut f: impl FnMut(NetlinkMessage<NetfilterMessage>) -> Result<(), KernelError>,
    ) -> Result<bool, KernelError> {
        self.buf.clear();
        let flags = if wait { 0 } else { libc::MSG_DONTWAIT };
        match self.sock.recv(&mut self.buf, flags) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(err("netlink receive", e)),
        }
        let mut at = 0;
        while at + 16 <= self.buf.len() {
            let msg = NetlinkMessage::<NetfilterMessage>::deserialize(&self.buf[at..])
                .map_err(|e| err("netlink reply", e))?;
            at += (msg.header.length as usize).max(16).next_multiple_of(4);
            f(msg)?;
        }
        Ok(true)
    }
}

/// Appends one netfilter message to `out`.
fn push(out: &mut Vec<u8>, flags: u16, seq: u32, nf: NetfilterHeader, inner: impl Into<NetfilterMessageInner>) {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(NetfilterMessage::new(nf, inner)));
    msg.finalize();
    let start = out.len();
    out.resize(start + msg.buffer_len(), 0);
    msg.serialize(&mut out[start..]);
}

fn element(key: Ipv4Addr, data: Option<Ipv4Addr>) -> ListAttribute<SetElementAttribute> {
    let value = |a: Ipv4Addr| DataAttribute::Value(a.octets().to_vec());
    let mut attrs = vec![SetElementAttribute::Key(value(key))];
    attrs.extend(data.map(|d| SetElementAttribute::Data(value(d))));
    ListAttribute::Element(attrs)
}

/// One set element operation of a delta: (add?, set, key → data).
type SetOp = (bool, &'static str, Vec<(Ipv4Addr, Option<Ipv4Addr>)>);

/// The delta's operations in kernel order: every delete, then every add.
fn set_ops(d: &crate::render::Delta) -> Vec<SetOp> {
    vec![
        (false, "eip2priv", d.unmap.iter().map(|(e, _)| (*e, None)).collect()),
        (false, "priv2eip", d.unmap.iter().map(|(_, p)| (*p, None)).collect()),
        (false, "visible", d.unvisible.iter().map(|e| (*e, None)).collect()),
        (true, "eip2priv", d.map.iter().map(|(e, p)| (*e, Some(*p))).collect()),
        (true, "priv2eip", d.map.iter().map(|(e, p)| (*p, Some(*e))).collect()),
        (true, "visible", d.visible.iter().map(|e| (*e, None)).collect()),
    ]
}

fn errno_text(code: i32) -> String {
    io::Error::from_raw_os_error(code.abs()).to_string()
}

/// The sequence number of the request an error message answers.
fn answered_seq(e: &netlink_packet_core::ErrorMessage) -> Option<u32> {
    e.header.get(8..12).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

impl Conn {
    /// Applies a delta as one nfnetlink batch.
    fn apply_delta(&mut self, d: &crate::render::Delta) -> Result<(), KernelError> {
        let ipv4 = || NetfilterHeader::new(NetfilterProtoFamily::IPv4, 0, 0);
        let mut out = Vec::new();
        let begin = self.next_seq();
        let nft_subsys = u16::from(u8::from(NetfilterSubsystem::NfTables));
        let ctl = NetfilterHeader::new(NetfilterProtoFamily::Unspec, 0, nft_subsys);
        push(&mut out, 0, begin, ctl.clone(), ControlMessage::BatchBegin);
        let ops = set_ops(d);
        let msgs: Vec<_> =
            ops.iter().flat_map(|(add, set, els)| els.chunks(CHUNK).map(move |c| (*add, *set, c))).collect();
        if msgs.is_empty() {
            return Ok(());
        }
        let mut last = begin;
        for (i, (add, set, els)) in msgs.iter().enumerate() {
            let seq = self.next_seq();
            last = seq;
            let list = vec![
                SetElementList::Table(TABLE.to_owned()),
                SetElementList::Set(set.to_string()),
                SetElementList::Elements(els.iter().map(|(k, v)| element(*k, *v)).collect()),
            ];
            let body = SetElementMessage { attributes: list };
            // Only the last message asks for an acknowledgement: errors come
            // back anyway, and one ack per message could overflow the buffer.
            let ack = if i + 1 == msgs.len() { NLM_F_ACK } else { 0 };
            let (flags, inner) = if *add {
                (NLM_F_CREATE | NLM_F_EXCL | ack, NfTablesMessage::NewSetElement(body))
            } else {
                (ack, NfTablesMessage::DeleteSetElement(body))
            };
            push(&mut out, flags, seq, ipv4(), inner);
        }
        push(&mut out, 0, self.next_seq(), ctl, ControlMessage::BatchEnd);
        self.send(&out).map_err(|e| err("netlink send", e))?;

        // The kernel processes the batch inside sendmsg: every answer is
        // queued by now, in order, the last message's answer last. So drain
        // without waiting, up to that answer.
        let (mut last_answered, mut refused) = (false, Vec::new());
        while !last_answered
            && self.recv(false, |m| {
                if let NetlinkPayload::Error(e) = m.payload {
                    let seq = answered_seq(&e).unwrap_or(0);
                    if seq.wrapping_sub(begin) > last.wrapping_sub(begin) {
                        return Ok(()); // a stale answer of an earlier call
                    }
                    last_answered |= seq == last;
                    if let Some(c) = e.code {
                        // Which message: one of `msgs`, or the batch as a whole.
                        let what = match seq.checked_sub(begin + 1).and_then(|i| msgs.get(i as usize)) {
                            Some((add, set, els)) => {
                                let verb = if *add { "add" } else { "delete" };
                                let more = if els.len() > 1 { ", …" } else { "" };
                                format!("{verb} element ip {TABLE} {set} {{ {}{more} }}", els[0].0)
                            }
                            None => "netlink batch".to_owned(),
                        };
                        refused.push(format!("{what}: {}", errno_text(c.get())));
                    }
                }
                Ok(())
            })?
        {}
        if !refused.is_empty() {
            return Err(KernelError(format!("netlink batch refused: {}", refused.join("; "))));
        }
        if !last_answered {
            return Err(KernelError("netlink batch: the kernel did not acknowledge it".into()));
        }
        Ok(())
    }

    /// Deletes the conntrack entries whose original destination or reply
    /// destination is `addr`.
    fn flush_conntrack(&mut self, addr: Ipv4Addr) -> Result<(), KernelError> {
        let ipv4 = || NetfilterHeader::new(NetfilterProtoFamily::IPv4, 0, 0);
        let dump = self.next_seq();
        let mut out = Vec::new();
        push(&mut out, NLM_F_DUMP, dump, ipv4(), ConntrackMessage::Get(vec![]));
        self.send(&out).map_err(|e| err("conntrack dump", e))?;
        let mut victims: Vec<Vec<ConntrackAttribute>> = Vec::new();
        let mut done = false;
        while !done {
            self.recv(true, |m| {
                if m.header.sequence_number != dump {
                    return Ok(());
                }
                match m.payload {
                    NetlinkPayload::Done(_) => done = true,
                    NetlinkPayload::Error(e) if e.code.is_some() => {
                        return Err(KernelError(format!("conntrack dump: {}", errno_text(e.raw_code()))));
                    }
                    NetlinkPayload::InnerMessage(NetfilterMessage {
                        inner: NetfilterMessageInner::Conntrack(ConntrackMessage::New(attrs)),
                        ..
                    }) => {
                        if let Some(key) = matching_entry(&attrs, addr) {
                            victims.push(key);
                        }
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
        for chunk in victims.chunks(CT_CHUNK) {
            out.clear();
            let first = self.seq.wrapping_add(1);
            for key in chunk {
                let seq = self.next_seq();
                push(&mut out, NLM_F_ACK, seq, ipv4(), ConntrackMessage::Delete(key.clone()));
            }
            self.send(&out).map_err(|e| err("conntrack delete", e))?;
            let mut left = chunk.len();
            while left > 0 {
                self.recv(true, |m| {
                    let NetlinkPayload::Error(e) = m.payload else { return Ok(()) };
                    let seq = answered_seq(&e).unwrap_or(0);
                    if seq.wrapping_sub(first) as usize >= chunk.len() {
                        return Ok(());
                    }
                    left -= 1;
                    match e.code {
                        // Gone already (timed out, or deleted by someone else).
                        Some(c) if c.get().abs() != libc::ENOENT => {
                            Err(KernelError(format!("conntrack delete: {}", errno_text(c.get()))))
                        }
                        _ => Ok(()),
                    }
                })?;
            }
        }
        Ok(())
    }
}

/// nf_tables message types (nfnetlink subsystem 10 in the high byte) of the
/// replies [`Conn::read_table`] reads.
const NFT_NEWTABLE: u16 = 10 << 8;
const NFT_NEWCHAIN: u16 = (10 << 8) | 3;
const NFT_NEWSETELEM: u16 = (10 << 8) | 12;
const NFT_NEWGEN: u16 = (10 << 8) | 15;
/// Attributes of those replies (`nf_tables.h`).
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_GEN_ID: u16 = 1;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
/// Reads started over when the ruleset changed while one ran.
const READ_TRIES: usize = 5;

/// The attributes (type without the nested/byte-order bits, value) in `buf`.
///
/// Replies are parsed by hand: the crate's set element parser formats its
/// whole buffer for an error context once per element (quadratic on a dump
/// message of a thousand elements), and the read needs four attributes.
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16::from_ne_bytes(buf.get(0..2)?.try_into().ok()?));
        let kind = u16::from_ne_bytes(buf.get(2..4)?.try_into().ok()?) & netlink_packet_core::NLA_TYPE_MASK;
        let value = buf.get(4..len)?;
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some((kind, value))
    })
}

fn attr(buf: &[u8], kind: u16) -> Option<&[u8]> {
    attrs(buf).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// A NUL-terminated string attribute.
fn text(v: &[u8]) -> &[u8] {
    v.split(|b| *b == 0).next().unwrap_or_default()
}

/// The IPv4 address in an `NFTA_DATA_VALUE` inside a nested data attribute.
fn ipv4_value(nested: &[u8]) -> Result<Ipv4Addr, KernelError> {
    let v = attr(nested, NFTA_DATA_VALUE).ok_or_else(|| KernelError("set element without a value".into()))?;
    let b: [u8; 4] =
        v.try_into().map_err(|_| KernelError(format!("set element value of {} bytes, not IPv4", v.len())))?;
    Ok(Ipv4Addr::from(b))
}

/// The elements of an `NFTA_SET_ELEM_LIST` message body: (key, data if a map).
fn set_elements(body: &[u8], mut f: impl FnMut(Ipv4Addr, Option<Ipv4Addr>)) -> Result<(), KernelError> {
    for (_, list) in attrs(body).filter(|(k, _)| *k == NFTA_SET_ELEM_LIST_ELEMENTS) {
        for (_, el) in attrs(list).filter(|(k, _)| *k == NFTA_LIST_ELEM) {
            let key = attr(el, NFTA_SET_ELEM_KEY).ok_or_else(|| KernelError("set element without a key".into()))?;
            let data = attr(el, NFTA_SET_ELEM_DATA).map(ipv4_value).transpose()?;
            f(ipv4_value(key)?, data);
        }
    }
    Ok(())
}

/// The elements of a dumped set: key, and data when it is a map.
type Elements = Vec<(Ipv4Addr, Option<Ipv4Addr>)>;

/// A dump the kernel flagged inconsistent: the ruleset changed during it.
struct Changed;

/// How a request ended.
enum Answer {
    /// Acknowledged, or a dump done.
    Done,
    /// A dump the kernel flagged as inconsistent (the ruleset changed).
    Interrupted,
    /// Refused with this errno.
    Refused(i32),
}

impl Conn {
    /// Sends one request and hands each reply message (type, body after the
    /// nfgenmsg header) to `f` until the acknowledgement, the end of the dump
    /// or an error. Replies are read raw (see [`attrs`]).
    fn exchange(
        &mut self,
        flags: u16,
        inner: NfTablesMessage,
        mut f: impl FnMut(u16, &[u8]) -> Result<(), KernelError>,
    ) -> Result<Answer, KernelError> {
        let seq = self.next_seq();
        let mut out = Vec::new();
        let flags = if flags & NLM_F_DUMP == NLM_F_DUMP { flags } else { flags | NLM_F_ACK };
        push(&mut out, flags, seq, NetfilterHeader::new(NetfilterProtoFamily::IPv4, 0, 0), inner);
        self.send(&out).map_err(|e| err("netlink send", e))?;
        let mut interrupted = false;
        loop {
            self.buf.clear();
            self.sock.recv(&mut self.buf, 0).map_err(|e| err("netlink receive", e))?;
            let mut at = 0;
            while at + 16 <= self.buf.len() {
                let h = &self.buf[at..];
                let word = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
                let len = (word(0) as usize).clamp(16, h.len());
                let (kind, mflags) = (u16::from_ne_bytes([h[4], h[5]]), u16::from_ne_bytes([h[6], h[7]]));
                let (mseq, body) = (word(8), &h[16..len]);
                at += len.next_multiple_of(4);
                if mseq != seq {
                    continue; // a stale answer of an earlier call
                }
                interrupted |= mflags & NLM_F_DUMP_INTR != 0;
                let code = || body.get(0..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
                match kind {
                    NLMSG_ERROR | NLMSG_DONE if code() != 0 => return Ok(Answer::Refused(code().abs())),
                    NLMSG_ERROR | NLMSG_DONE if interrupted => return Ok(Answer::Interrupted),
                    NLMSG_ERROR | NLMSG_DONE => return Ok(Answer::Done),
                    _ => f(kind, body.get(4..).unwrap_or_default())?,
                }
            }
        }
    }

    /// The ruleset generation: it changes with every committed transaction.
    fn generation(&mut self) -> Result<u32, KernelError> {
        let mut id = None;
        let gen_msg = NfTablesMessage::GetGen(GenMessage { attributes: vec![] });
        let answer = self.exchange(0, gen_msg, |kind, body| {
            if kind == NFT_NEWGEN
                && let Some(v) = attr(body, NFTA_GEN_ID).and_then(|v| <[u8; 4]>::try_from(v).ok())
            {
                id = Some(u32::from_be_bytes(v));
            }
            Ok(())
        })?;
        match (answer, id) {
            (Answer::Refused(e), _) => Err(KernelError(format!("nf_tables generation: {}", errno_text(e)))),
            (_, Some(id)) => Ok(id),
            (_, None) => Err(KernelError("nf_tables generation: no answer".into())),
        }
    }

    /// The elements of one set of the table (empty when the set is missing,
    /// as `nft list table` shows it), or [`Changed`].
    fn dump_set(&mut self, set: &str) -> Result<Result<Elements, Changed>, KernelError> {
        let list = vec![SetElementList::Table(TABLE.to_owned()), SetElementList::Set(set.to_owned())];
        let msg = NfTablesMessage::GetSetElement(SetElementMessage { attributes: list });
        let mut els = Vec::new();
        let answer = self.exchange(NLM_F_DUMP, msg, |kind, body| {
            if kind == NFT_NEWSETELEM {
                set_elements(body, |key, data| els.push((key, data)))?;
            }
            Ok(())
        })?;
        match answer {
            Answer::Done => Ok(Ok(els)),
            Answer::Refused(e) if e == libc::ENOENT => Ok(Ok(Vec::new())),
            Answer::Refused(e) => Err(KernelError(format!("listing set ip {TABLE} {set}: {}", errno_text(e)))),
            Answer::Interrupted => Ok(Err(Changed)),
        }
    }

    /// Reads the table's chains and per-EIP elements once (`None`: no
    /// table), or finds that a dump was interrupted by a ruleset change.
    fn read_once(&mut self, ns: &str) -> Result<Result<Option<TableState>, Changed>, KernelError> {
        let mut found = false;
        let table = TableMessage { attributes: vec![TableAttribute::Name(TABLE.to_owned())] };
        match self.exchange(0, NfTablesMessage::GetTable(table), |kind, _| {
            found |= kind == NFT_NEWTABLE;
            Ok(())
        })? {
            Answer::Refused(e) if e == libc::ENOENT => return Ok(Ok(None)),
            Answer::Refused(e) => return Err(KernelError(format!("reading table ip {TABLE}: {}", errno_text(e)))),
            Answer::Interrupted => return Ok(Err(Changed)),
            Answer::Done if !found => return Err(KernelError(format!("reading table ip {TABLE}: no answer"))),
            Answer::Done => {}
        }
        let mut t = TableState::default();
        // The chain dump covers every table of the family: keep ours.
        let chains = ChainMessage { attributes: vec![ChainAttribute::Table(TABLE.to_owned())] };
        let answer = self.exchange(NLM_F_DUMP, NfTablesMessage::GetChain(chains), |kind, body| {
            if kind == NFT_NEWCHAIN
                && attr(body, NFTA_CHAIN_TABLE).map(text) == Some(TABLE.as_bytes())
                && let Some(name) = attr(body, NFTA_CHAIN_NAME)
            {
                t.chains.insert(String::from_utf8_lossy(text(name)).into_owned());
            }
            Ok(())
        })?;
        match answer {
            Answer::Refused(e) => return Err(KernelError(format!("listing chains: {}", errno_text(e)))),
            Answer::Interrupted => return Ok(Err(Changed)),
            Answer::Done => {}
        }

        // A set element dump costs the kernel a walk of the set from its
        // start for every reply message (about 1100 map elements in 32 KiB,
        // the most a dump message holds), so it grows with the square of the
        // set: the two maps go at once, `priv2eip` on the second socket.
        let mut aux = match self.aux.take() {
            Some(a) => a,
            None => {
                let a = Conn::open(ns)?;
                if a.id != self.id {
                    return Err(KernelError(format!("namespace {ns} replaced during a read")));
                }
                Box::new(a)
            }
        };
        let (e2p, p2e) = std::thread::scope(|s| {
            let other = s.spawn(|| aux.dump_set("priv2eip"));
            let mine = self.dump_set("eip2priv");
            (mine, other.join().unwrap_or_else(|_| Err(KernelError("set dump thread panicked".into()))))
        });
        self.aux = Some(aux);
        let pairs = |els: Elements| {
            // A map element always has data; `nft` lists nothing else.
            els.into_iter().filter_map(|(k, d)| Some((k, d?))).collect()
        };
        match (e2p?, p2e?, self.dump_set("visible")?) {
            (Ok(e2p), Ok(p2e), Ok(vis)) => {
                t.eip2priv = pairs(e2p);
                t.priv2eip = pairs(p2e);
                t.visible = vis.into_iter().map(|(k, _)| k).collect();
                Ok(Ok(Some(t)))
            }
            _ => Ok(Err(Changed)),
        }
    }

    /// Reads the table back: each part is a dump, so the whole read is
    /// repeated when the ruleset generation moved while it ran.
    fn read_table(&mut self, ns: &str) -> Result<Option<TableState>, KernelError> {
        for _ in 0..READ_TRIES {
            let before = self.generation()?;
            if let Ok(t) = self.read_once(ns)?
                && self.generation()? == before
            {
                return Ok(t);
            }
        }
        Err(KernelError(format!("reading table ip {TABLE}: the ruleset kept changing ({READ_TRIES} tries)")))
    }
}

/// The delete key (original tuple, zone) of a dumped entry when either of its
/// destinations is `addr`.
fn matching_entry(attrs: &[ConntrackAttribute], addr: Ipv4Addr) -> Option<Vec<ConntrackAttribute>> {
    let dst = |t: &[Tuple]| {
        t.iter().any(|t| match t {
            Tuple::Ip(ips) => ips.contains(&IPTuple::DestinationAddress(IpAddr::V4(addr))),
            _ => false,
        })
    };
    let mut orig = None;
    let mut hit = false;
    let mut zone = None;
    for a in attrs {
        match a {
            ConntrackAttribute::CtaTupleOrig(t) => {
                hit |= dst(t);
                orig = Some(a.clone());
            }
            ConntrackAttribute::CtaTupleReply(t) => hit |= dst(t),
            ConntrackAttribute::Other(nla) if netlink_packet_core::Nla::kind(nla) & 0x3fff == CTA_ZONE => {
                zone = Some(a.clone())
            }
            _ => {}
        }
    }
    if !hit {
        return None;
    }
    Some(orig.into_iter().chain(zone).collect())
}

impl NftNetlink {
    /// No sockets yet; each namespace gets one on first use.
    pub fn new() -> NftNetlink {
        NftNetlink::default()
    }

    /// Closes the socket of `ns`, if any, so it no longer holds the
    /// namespace alive.
    pub fn forget(&self, ns: &str) {
        self.conns.lock().expect("netlink sockets").remove(ns);
    }

    /// Runs `f` on the socket of `ns`, opening it (again) when the name
    /// points at another namespace than the socket's. After any error the
    /// socket is closed (a fresh one costs microseconds and cannot hold
    /// stale answers).
    fn with<T>(&self, ns: &str, f: impl FnOnce(&mut Conn) -> Result<T, KernelError>) -> Result<T, KernelError> {
        let mut conns = self.conns.lock().expect("netlink sockets");
        // Drop sockets whose namespace was deleted or replaced.
        conns.retain(|name, c| ns_id(name).is_ok_and(|id| id == c.id));
        if !conns.contains_key(ns) {
            conns.insert(ns.to_owned(), Conn::open(ns)?);
        }
        let conn = conns.get_mut(ns).expect("just inserted");
        let r = f(conn);
        if r.is_err() {
            conns.remove(ns);
        }
        r
    }
}

impl Kernel for NftNetlink {
    fn apply(&self, ns: &str, batch: &Batch) -> Result<(), KernelError> {
        match &batch.effect {
            Effect::Full(_) => self.cli.apply(ns, batch),
            Effect::Delta(d) => self.with(ns, |c| c.apply_delta(d)),
        }
    }

    fn read(&self, ns: &str) -> Result<Option<TableState>, KernelError> {
        self.with(ns, |c| c.read_table(ns))
    }

    fn flush_conntrack(&self, ns: &str, addr: Ipv4Addr) -> Result<(), KernelError> {
        self.with(ns, |c| c.flush_conntrack(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{GatewayState, build, tests::sample};
    use crate::render::{self, Delta};
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// Says why a test does not run, past the test harness's capture.
    fn skip(test: &str, why: &str) {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{test}: skipped: {why}");
    }

    /// Why these tests cannot run here, if they cannot.
    fn unable() -> Option<&'static str> {
        if !rustix::process::geteuid().is_root() {
            return Some("not root");
        }
        if Command::new("nft").arg("--version").output().is_err() {
            return Some("no nft binary");
        }
        None
    }

    macro_rules! need_root_and_nft {
        ($test:literal) => {
            if let Some(why) = unable() {
                skip($test, why);
                return;
            }
        };
    }

    /// A fresh namespace, deleted on drop.
    struct Ns(String);

    impl Ns {
        fn new() -> Ns {
            Ns::prefixed("oeipnl")
        }
        fn prefixed(prefix: &str) -> Ns {
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
            let ns = Ns(name);
            ns.create();
            ns
        }
        fn create(&self) {
            let st = Command::new("ip").args(["netns", "add", &self.0]).status().unwrap();
            assert!(st.success(), "ip netns add {}", self.0);
        }
        fn delete(&self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
        fn sh(&self, args: &[&str]) -> String {
            let out = Command::new("ip").args(["netns", "exec", &self.0]).args(args).output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
        /// Runs one `nft` command line (statements separated by `;`).
        fn nft(&self, cmd: &str) {
            let out = Command::new("ip").args(["netns", "exec", &self.0, "nft", cmd]).output().unwrap();
            assert!(out.status.success(), "nft {cmd}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }

    impl Drop for Ns {
        fn drop(&mut self) {
            self.delete();
        }
    }

    fn gateway() -> GatewayState {
        build(1, &sample()).gateways["cn-hangzhou"].clone()
    }

    fn load(ns: &Ns, g: &GatewayState) {
        NftCli.apply(&ns.0, &render::full(g)).expect("full load");
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(render::expected(g)));
    }

    /// Applies the delta from `old` to `new` with `k` and checks the table.
    fn step(k: &NftNetlink, ns: &Ns, old: &GatewayState, new: &GatewayState) {
        let b = render::delta(old, new).expect("a delta");
        k.apply(&ns.0, &b).expect("delta applied");
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(render::expected(new)));
    }

    #[test]
    fn netlink_deltas_leave_the_table_nft_would() {
        need_root_and_nft!("netlink_deltas_leave_the_table_nft_would");
        let ns = Ns::new();
        let k = NftNetlink::new();
        let g0 = gateway();
        load(&ns, &g0);

        let mut g1 = g0.clone();
        g1.nat.insert(ip("198.18.0.20"), ip("172.16.1.20")); // associate
        step(&k, &ns, &g0, &g1);
        let mut g2 = g1.clone();
        g2.nat.remove(&ip("198.18.0.5")); // unassociate
        g2.nat.insert(ip("198.18.0.6"), ip("172.16.1.9")); // re-map
        g2.visible.insert(ip("198.18.0.30"));
        step(&k, &ns, &g1, &g2);
        let mut g3 = g2.clone();
        g3.visible.clear();
        g3.havip.insert(ip("198.18.0.31"), ip("172.16.1.100"));
        step(&k, &ns, &g2, &g3);

        // Thousands of elements: several messages, still one batch.
        let mut big = g3.clone();
        for i in 0..5000u32 {
            big.nat.insert(Ipv4Addr::from(0xC612_1000 + i), Ipv4Addr::from(0x0A00_0000 + i));
        }
        step(&k, &ns, &g3, &big);
        step(&k, &ns, &big, &g0);
        // A full resync in between leaves the socket usable.
        k.apply(&ns.0, &render::full(&g1)).unwrap();
        step(&k, &ns, &g1, &g2);
    }

    #[test]
    fn a_refused_delta_changes_nothing() {
        need_root_and_nft!("a_refused_delta_changes_nothing");
        let ns = Ns::new();
        let k = NftNetlink::new();
        let g = gateway();
        load(&ns, &g);
        let batch = |d: Delta| Batch { script: String::new(), effect: Effect::Delta(d) };

        // The add is fine, the delete of an absent element is not: neither lands.
        let absent = Delta {
            unmap: vec![(ip("198.18.0.99"), ip("172.16.1.99"))],
            map: vec![(ip("198.18.0.20"), ip("172.16.1.20"))],
            ..Delta::default()
        };
        let e = k.apply(&ns.0, &batch(absent)).unwrap_err();
        assert!(e.0.contains("No such file or directory"), "{e}");
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(render::expected(&g)));

        let present = Delta {
            visible: vec![ip("198.18.0.40")],
            map: vec![(ip("198.18.0.5"), ip("172.16.1.1"))],
            ..Delta::default()
        };
        let e = k.apply(&ns.0, &batch(present)).unwrap_err();
        assert!(e.0.contains("File exists"), "{e}");
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(render::expected(&g)));

        // The socket still works after refusals.
        let mut g1 = g.clone();
        g1.nat.insert(ip("198.18.0.20"), ip("172.16.1.20"));
        step(&k, &ns, &g, &g1);
        // Nothing to do is not an error.
        k.apply(&ns.0, &batch(Delta::default())).unwrap();
    }

    #[test]
    fn a_recreated_namespace_gets_a_new_socket() {
        need_root_and_nft!("a_recreated_namespace_gets_a_new_socket");
        let ns = Ns::new();
        let k = NftNetlink::new();
        let g0 = gateway();
        let mut g1 = g0.clone();
        g1.nat.insert(ip("198.18.0.20"), ip("172.16.1.20"));
        load(&ns, &g0);
        step(&k, &ns, &g0, &g1);

        ns.delete();
        ns.create();
        load(&ns, &g0);
        step(&k, &ns, &g0, &g1);

        // A missing namespace is an error, not a panic; it works again once back.
        ns.delete();
        let b = render::delta(&g1, &g0).unwrap();
        assert!(k.apply(&ns.0, &b).is_err());
        ns.create();
        load(&ns, &g1);
        step(&k, &ns, &g1, &g0);
        k.forget(&ns.0);
        step(&k, &ns, &g0, &g1);
    }

    /// The sample gateway with every kind of entry: HaVip, visible EIPs,
    /// NAT gateway SNAT and forward entries, a CLB listener, and `extra`
    /// more NAT mappings (several dump messages per map).
    fn rich_gateway(extra: u32) -> GatewayState {
        use crate::desired::{ClbRule, DnatRule, SnatRule};
        let mut g = gateway();
        g.havip.insert(ip("198.18.0.10"), ip("172.16.1.100"));
        g.visible.extend([ip("198.18.0.9"), ip("198.18.0.12")]);
        g.snat.push(SnatRule { source: crate::Cidr::parse("172.16.2.0/24").unwrap(), eips: vec![ip("198.18.0.11")] });
        g.dnat.push(DnatRule {
            eip: ip("198.18.0.11"),
            external_port: Some(8080),
            internal_ip: ip("172.16.2.5"),
            internal_port: Some(80),
            protocol: eip_types::IpProtocol::Tcp,
        });
        g.clb.push(ClbRule { eip: ip("198.18.0.13"), port: 80, backends: vec![(ip("172.16.1.60"), 8080, 100)] });
        for i in 0..extra {
            g.nat.insert(Ipv4Addr::from(0xC612_1000 + i), Ipv4Addr::from(0x0A00_0000 + i));
        }
        g
    }

    #[test]
    fn netlink_read_equals_nft_read() {
        need_root_and_nft!("netlink_read_equals_nft_read");
        let ns = Ns::prefixed("oeiprb");
        let k = NftNetlink::new();
        let g = rich_gateway(5000);
        load(&ns, &g);
        let want = Some(render::expected(&g));
        assert_eq!(k.read(&ns.0).unwrap(), NftCli.read(&ns.0).unwrap());
        assert_eq!(k.read(&ns.0).unwrap(), want);
        // Counted elements in the accounting sets do not disturb the read.
        ns.nft("add element ip openeip eip_rx { 198.18.0.5 }");
        assert_eq!(k.read(&ns.0).unwrap(), want);

        // Reads and deltas share the socket.
        let mut g1 = g.clone();
        g1.nat.remove(&ip("198.18.0.5"));
        g1.visible.insert(ip("198.18.0.30"));
        k.apply(&ns.0, &render::delta(&g, &g1).unwrap()).unwrap();
        assert_eq!(k.read(&ns.0).unwrap(), Some(render::expected(&g1)));
        assert_eq!(k.read(&ns.0).unwrap(), NftCli.read(&ns.0).unwrap());
        // Empty maps and sets.
        let empty = GatewayState { pools: g.pools.clone(), private_nets: g.private_nets.clone(), ..Default::default() };
        k.apply(&ns.0, &render::full(&empty)).unwrap();
        assert_eq!(k.read(&ns.0).unwrap(), Some(render::expected(&empty)));
        assert_eq!(k.read(&ns.0).unwrap(), NftCli.read(&ns.0).unwrap());
    }

    #[test]
    fn netlink_read_of_a_missing_table_is_none() {
        need_root_and_nft!("netlink_read_of_a_missing_table_is_none");
        let ns = Ns::prefixed("oeiprb");
        let k = NftNetlink::new();
        assert_eq!(k.read(&ns.0).unwrap(), None);
        // Another table, even with chains of the same names, is not ours.
        ns.nft("add table ip other; add chain ip other prerouting; add set ip other visible { type ipv4_addr; }");
        assert_eq!(k.read(&ns.0).unwrap(), None);
        let g = rich_gateway(0);
        load(&ns, &g);
        assert_eq!(k.read(&ns.0).unwrap(), Some(render::expected(&g)));
        ns.nft("delete table ip openeip");
        assert_eq!(k.read(&ns.0).unwrap(), None);
        assert_eq!(NftCli.read(&ns.0).unwrap(), None);
        // A missing namespace is an error.
        ns.delete();
        assert!(k.read(&ns.0).is_err());
        ns.create();
        assert_eq!(k.read(&ns.0).unwrap(), None);
    }

    #[test]
    fn netlink_read_sees_changes_behind_its_back() {
        need_root_and_nft!("netlink_read_sees_changes_behind_its_back");
        let ns = Ns::prefixed("oeiprb");
        let k = NftNetlink::new();
        let g = rich_gateway(2000);
        load(&ns, &g);
        assert_eq!(k.read(&ns.0).unwrap(), Some(render::expected(&g)));

        let nft = |cmd: &str| ns.nft(cmd);
        nft("delete element ip openeip eip2priv { 198.18.0.5 }");
        nft("add element ip openeip visible { 198.18.0.77 }");
        nft("delete element ip openeip priv2eip { 10.0.0.7 }");
        let mut want = render::expected(&g);
        want.eip2priv.remove(&ip("198.18.0.5"));
        want.visible.insert(ip("198.18.0.77"));
        want.priv2eip.remove(&ip("10.0.0.7"));
        assert_eq!(k.read(&ns.0).unwrap(), Some(want.clone()));
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(want.clone()));

        // A chain gone, a map element pointing elsewhere.
        nft("flush chain ip openeip acct_out; delete chain ip openeip acct_out");
        nft(
            "delete element ip openeip eip2priv { 198.18.0.6 }; add element ip openeip eip2priv { 198.18.0.6 : 172.16.9.9 }",
        );
        want.chains.remove("acct_out");
        want.eip2priv.insert(ip("198.18.0.6"), ip("172.16.9.9"));
        assert_eq!(k.read(&ns.0).unwrap(), Some(want.clone()));
        assert_eq!(NftCli.read(&ns.0).unwrap(), Some(want));
    }

    #[test]
    fn conntrack_flush_deletes_both_directions_of_one_address_only() {
        need_root_and_nft!("conntrack_flush_deletes_both_directions_of_one_address_only");
        if Command::new("conntrack").arg("--version").output().is_err() {
            skip("conntrack_flush_deletes_both_directions_of_one_address_only", "no conntrack binary");
            return;
        }
        let ns = Ns::new();
        let k = NftNetlink::new();
        load(&ns, &gateway());
        let insert = |args: &[&str]| {
            let out = Command::new("ip")
                .args(["netns", "exec", &ns.0, "conntrack", "-I", "-t", "300"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        };
        let flow = |proto: &str, orig: [&str; 4], reply: [&str; 2]| {
            let mut a = vec!["-p", proto, "-s", orig[0], "-d", orig[1], "--sport", orig[2], "--dport", orig[3]];
            a.extend(["-r", reply[0], "-q", reply[1], "--reply-port-src", orig[3], "--reply-port-dst", orig[2]]);
            if proto == "tcp" {
                a.extend(["--state", "ESTABLISHED"]);
            }
            insert(&a);
        };
        let ping = |dst: &str, private: &str| {
            let a = ["-p", "icmp", "-s", "203.0.113.10", "-d", dst, "-r", private, "-q", "203.0.113.10"];
            insert(&[&a[..], &["--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "77"]].concat());
        };
        // For each of two EIPs: inbound to it (DNAT), outbound leaving as it
        // (SNAT), and a ping to it.
        flow("tcp", ["203.0.113.10", "198.18.0.5", "40000", "80"], ["172.16.1.1", "203.0.113.10"]);
        flow("udp", ["172.16.1.1", "203.0.113.10", "5000", "53"], ["203.0.113.10", "198.18.0.5"]);
        ping("198.18.0.5", "172.16.1.1");
        flow("tcp", ["203.0.113.10", "198.18.0.6", "40001", "80"], ["172.16.1.2", "203.0.113.10"]);
        flow("udp", ["172.16.1.2", "203.0.113.10", "5001", "53"], ["203.0.113.10", "198.18.0.6"]);
        ping("198.18.0.6", "172.16.1.2");
        let list = || ns.sh(&["conntrack", "-L"]);
        assert_eq!(list().lines().count(), 6, "{}", list());

        k.flush_conntrack(&ns.0, ip("198.18.0.5")).unwrap();
        let left = list();
        assert_eq!(left.lines().count(), 3, "{left}");
        assert!(!left.contains("198.18.0.5 "), "{left}");
        assert_eq!(left.matches("198.18.0.6 ").count(), 3, "{left}");
        // Nothing left to match: still fine.
        k.flush_conntrack(&ns.0, ip("198.18.0.5")).unwrap();
        assert_eq!(list().lines().count(), 3);
    }
}
