//! Go `text/template` dialect executed on minijinja.
