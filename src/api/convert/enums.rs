//! The closed enums of the contract, core to protobuf and back, each from one table. Decoding
//! gives `None` for UNSPECIFIED: whether that means "not given" or "missing" is the caller's
//! rule (`api::validate`).

use crate::core::types as core;
use crate::proto as pb;

/// Declares `$name(core) -> pb` here and `decode::$name(pb) -> Option<core>` from one list of
/// variant pairs, so the two directions cannot disagree.
macro_rules! enum_pair {
    ($($name:ident: $core:ident <=> $pb:ident { $($c:ident <=> $p:ident),+ $(,)? })+) => {
        $(pub fn $name(v: core::$core) -> pb::$pb {
            match v { $(core::$core::$c => pb::$pb::$p),+ }
        })+

        /// Protobuf enums as core ones; `None` for UNSPECIFIED.
        pub mod decode {
            use super::{core, pb};
            $(pub fn $name(v: pb::$pb) -> Option<core::$core> {
                match v {
                    pb::$pb::Unspecified => None,
                    $(pb::$pb::$p => Some(core::$core::$c)),+
                }
            })+
        }
    };
}

enum_pair! {
    tier: Tier <=> Tier { Vip <=> Vip, New <=> New, Standard <=> Standard }
    channel: Channel <=> Channel {
        Chat <=> Chat, Messenger <=> Messenger, Email <=> Email,
        Phone <=> Phone, Social <=> Social, Review <=> Review,
    }
    priority: Priority <=> Priority { Low <=> Low, Normal <=> Normal, High <=> High, Urgent <=> Urgent }
    sentiment: Sentiment <=> Sentiment {
        Neutral <=> Neutral, Positive <=> Positive, Negative <=> Negative,
    }
    state: TicketState <=> TicketState {
        Queued <=> Queued, Assigned <=> Assigned, Pending <=> Pending,
        Resolved <=> Resolved, Cancelled <=> Cancelled,
    }
    presence: Presence <=> Presence { Available <=> Available, Away <=> Away, Offline <=> Offline }
    cancel_reason: CancelReason <=> CancelReason {
        Abandoned <=> Abandoned, Duplicate <=> Duplicate, Other <=> Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_goes_there_and_back() {
        for &t in core::Tier::ALL {
            assert_eq!(decode::tier(tier(t)), Some(t));
        }
        for &c in core::Channel::ALL {
            assert_eq!(decode::channel(channel(c)), Some(c));
        }
        for &p in core::Priority::ALL {
            assert_eq!(decode::priority(priority(p)), Some(p));
        }
        for &s in core::Sentiment::ALL {
            assert_eq!(decode::sentiment(sentiment(s)), Some(s));
        }
        for &s in core::TicketState::ALL {
            assert_eq!(decode::state(state(s)), Some(s));
        }
        for &p in core::Presence::ALL {
            assert_eq!(decode::presence(presence(p)), Some(p));
        }
        for &r in core::CancelReason::ALL {
            assert_eq!(decode::cancel_reason(cancel_reason(r)), Some(r));
        }
        assert_eq!(decode::tier(pb::Tier::Unspecified), None);
    }
}
