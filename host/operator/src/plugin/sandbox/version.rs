//! WIT version compatibility between the host and a plugin.

/// The version of `wit/operator.wit` this host implements.
pub const WIT_VERSION: &str = "0.1.0";

fn major_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether this host can run a plugin built against WIT `plugin`; the error says why not.
pub fn check_version(plugin: &str) -> Result<(), String> {
    compatibility(WIT_VERSION, plugin)
}

/// Cargo's caret rule, because WIT changes are additive within a major version: the same major version (while
/// it is 0, the minor version plays its role), and a plugin's minor version no newer than the host's, since a
/// newer plugin may import functions this host lacks. Patch versions never matter.
fn compatibility(host: &str, plugin: &str) -> Result<(), String> {
    let (Some((hm, hn)), Some((pm, pn))) = (major_minor(host), major_minor(plugin)) else {
        return Err(format!("{plugin:?} is not a semantic version"));
    };
    if hm != pm {
        return Err(format!("major version {pm} differs from {hm}"));
    }
    if hm == 0 && hn != pn {
        return Err(format!(
            "0.{pn} and 0.{hn} are different major versions under semver's 0.x rule"
        ));
    }
    if pn > hn {
        return Err(format!(
            "the plugin needs minor version {pn}, newer than this host's {hn}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compatible(host: &str, plugin: &str) -> bool {
        compatibility(host, plugin).is_ok()
    }

    #[test]
    fn zero_major_needs_the_same_minor() {
        assert!(compatible("0.1.0", "0.1.7"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("0.1.0", "1.1.0"));
    }

    #[test]
    fn later_majors_need_the_same_major_and_no_newer_minor() {
        assert!(compatible("1.2.0", "1.0.3"));
        assert!(compatible("1.2.0", "1.2.9"));
        assert!(!compatible("1.2.0", "1.3.0"));
        assert!(!compatible("2.0.0", "1.9.0"));
        assert!(!compatible("1.0.0", "garbage"));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            compatibility("1.0.0", "2.0.0").unwrap_err(),
            "major version 2 differs from 1"
        );
        assert!(
            compatibility("0.1.0", "0.2.0")
                .unwrap_err()
                .contains("0.2 and 0.1")
        );
        assert!(check_version(WIT_VERSION).is_ok());
    }

    #[test]
    fn host_version_matches_the_wit_package() {
        let wit = include_str!("../../../../../wit/operator.wit");
        assert!(wit.contains(&format!("package platform-mesh:operator@{WIT_VERSION};")));
    }
}
