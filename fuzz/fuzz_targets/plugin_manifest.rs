//! The `plugins.yaml` key of the plugin ConfigMap, as whoever may edit that ConfigMap writes it. Any input may be
//! refused with an error naming the field; none may panic. An accepted configuration keeps the parser's promises:
//! plugin names are unique DNS labels and every chain names declared plugins once each.

#![no_main]

use libfuzzer_sys::fuzz_target;
use platform_mesh_operator::plugin::PluginManifest;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(manifest) = PluginManifest::parse(text) else {
        return;
    };
    for (index, plugin) in manifest.plugins.iter().enumerate() {
        assert!(
            !plugin.name.is_empty() && plugin.name.len() <= 63,
            "name {:?}",
            plugin.name
        );
        assert!(
            manifest.plugins[..index].iter().all(|p| p.name != plugin.name),
            "{} declared twice",
            plugin.name
        );
        assert!(plugin.limits.memory != Some(0), "zero memory limit accepted");
    }
    for (controller, chain) in &manifest.chains {
        for (position, name) in chain.iter().enumerate() {
            assert!(
                manifest.plugin(name).is_some(),
                "chain {controller} names undeclared {name}"
            );
            assert!(
                !chain[..position].contains(name),
                "chain {controller} names {name} twice"
            );
        }
    }
});
