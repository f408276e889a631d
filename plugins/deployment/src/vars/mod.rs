//! The variable sets the templates are rendered with (spec §5.6), built along one precedence chain.
//!
//! # Precedence (lowest first), the same for every set
//!
//! 1. the profile section (`infra`, or `components` after rendering it as a template);
//! 2. the PlatformMesh's overrides for that section: `spec.infraValues` over `infra`; `spec.values` over
//!    `components` (its `services` map, or the whole of `spec.values` when it has no `services` map — the flat form);
//! 3. `spec.ocm` (`repo.name`, `component.name`, `referencePath`) over the section's `ocm`;
//! 4. the exposure variables (`baseDomain`, `protocol`, `port`, `baseDomainPort`, `helmReleaseNamespace`);
//! 5. the keys the operator sets: `releaseNamespace`, `kubeConfigEnabled` (+ `kubeConfigSecretName`/`Key`) and the
//!    normalised `deploymentTechnology`.
//!
//! Upstream (spec §11.2 item 20) let profile services beat `spec.values` in the runtime set but not in the
//! components set, applied `spec.ocm` to the infra OCM Resources only, and ignored `spec.infraValues`.

mod exposure;
mod sets;
mod spec_values;
mod syncwave;

pub use exposure::{Exposure, exposure_of, spec_value_vars, template_vars};
pub use sets::{Technology, components_set, infra_set, runtime_set, technology_of};
pub use spec_values::render_templates_in_value;
pub use syncwave::calculate_sync_waves;
