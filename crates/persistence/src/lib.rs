//! Diesel adapters for the ports of `pas-domain` (being written).
