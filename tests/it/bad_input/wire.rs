//! Protobuf wire format by hand: method paths, invalid UTF-8, and encoders for the bytes prost
//! types cannot hold.

use super::Req;
use prost::Message;

pub(super) const CREATE: &str = "/triage.v1.TicketService/CreateTicket";
pub(super) const CREATE_MANY: &str = "/triage.v1.TicketService/CreateTickets";
pub(super) const GET: &str = "/triage.v1.TicketService/GetTicket";
pub(super) const EXPLAIN: &str = "/triage.v1.TicketService/ExplainTicket";
pub(super) const LIST: &str = "/triage.v1.TicketService/ListTickets";
pub(super) const REPLY: &str = "/triage.v1.TicketService/RecordReply";
pub(super) const FOLLOW_UP: &str = "/triage.v1.TicketService/RecordFollowUp";
pub(super) const PENDING: &str = "/triage.v1.TicketService/SetPending";
pub(super) const RESOLVE: &str = "/triage.v1.TicketService/ResolveTicket";
pub(super) const UPDATE: &str = "/triage.v1.TicketService/UpdateTicket";
pub(super) const UPSERT: &str = "/triage.v1.AgentService/UpsertAgent";
pub(super) const GET_AGENT: &str = "/triage.v1.AgentService/GetAgent";
pub(super) const LIST_AGENTS: &str = "/triage.v1.AgentService/ListAgents";
pub(super) const PRESENCE: &str = "/triage.v1.AgentService/SetPresence";
pub(super) const HEARTBEAT: &str = "/triage.v1.AgentService/Heartbeat";
pub(super) const PULL: &str = "/triage.v1.AgentService/PullNextTicket";
pub(super) const RELEASE: &str = "/triage.v1.AgentService/ReleaseTicket";
pub(super) const PUT_POLICY: &str = "/triage.v1.AdminService/PutSlaPolicy";

/// Not UTF-8: a stray continuation byte, an overlong NUL, a UTF-16 surrogate, a sequence cut
/// short, a code point past U+10FFFF.
pub(super) const STRAY: &[u8] = b"ana\xff";
pub(super) const OVERLONG: &[u8] = b"\xc0\x80";
pub(super) const SURROGATE: &[u8] = b"\xed\xa0\x80";
pub(super) const CUT_SHORT: &[u8] = b"en\xe2\x82";
pub(super) const TOO_HIGH: &[u8] = b"\xf4\x90\x80\x80";

pub(super) fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

pub(super) fn key(field: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(field) << 3 | u64::from(wire_type))
}

/// A length-delimited field: a string, bytes, or an embedded message.
pub(super) fn len_field(field: u32, payload: &[u8]) -> Vec<u8> {
    [
        key(field, 2),
        varint(payload.len() as u64),
        payload.to_vec(),
    ]
    .concat()
}

pub(super) fn varint_field(field: u32, value: u64) -> Vec<u8> {
    [key(field, 0), varint(value)].concat()
}

/// `valid`, encoded, then string field `field` once more holding `bytes`: proto3 keeps the
/// last value of a singular field and appends to a repeated one, so only `bytes` is wrong.
pub(super) fn then_field(valid: &impl Message, field: u32, bytes: &[u8]) -> Vec<u8> {
    [valid.encode_to_vec(), len_field(field, bytes)].concat()
}

pub(super) fn raw(path: &'static str, body: Vec<u8>) -> Req {
    Req::Raw(path, body)
}

pub(super) fn raw_policy(policy: Vec<u8>) -> Req {
    raw(PUT_POLICY, len_field(1, &policy))
}

/// A message body sent byte for byte: what prost types cannot build.
#[derive(Clone, Debug, Default)]
pub(super) struct RawBody(pub(super) Vec<u8>);

impl Message for RawBody {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}
