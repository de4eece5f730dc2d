//! Project grouping rules: fingerprint rules and stack-trace rules, as users write them.
