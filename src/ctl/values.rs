//! The core's closed enums as command-line values. Each is spelt by its `label()` (matched in
//! any case where the argument says `ignore_case`), so ctl takes exactly the names the core,
//! config files, traces and metrics use, and a new variant needs no second list here.

use crate::core::types::{CancelReason, Channel, Presence, Priority, Sentiment, TicketState, Tier};
use clap::builder::PossibleValue;

macro_rules! value_enum {
    ($($t:ty),+ $(,)?) => {
        $(impl clap::ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                <$t>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.label()))
            }
        })+
    };
}

value_enum!(
    Tier,
    Channel,
    Priority,
    Sentiment,
    TicketState,
    Presence,
    CancelReason
);
