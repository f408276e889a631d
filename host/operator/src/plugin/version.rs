//! WIT version compatibility between the host and a plugin.

/// The version of `wit/operator.wit` this host implements.
pub const WIT_VERSION: &str = "0.1.0";

fn major_minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Semver compatibility: the same major version, and while the major version is 0 the same minor version.
pub fn compatible(host: &str, plugin: &str) -> bool {
    match (major_minor(host), major_minor(plugin)) {
        (Some((hm, hn)), Some((pm, pn))) => hm == pm && (hm != 0 || hn == pn),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_major_needs_the_same_minor() {
        assert!(compatible("0.1.0", "0.1.7"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("0.1.0", "1.1.0"));
    }

    #[test]
    fn later_majors_need_the_same_major_only() {
        assert!(compatible("1.2.0", "1.0.3"));
        assert!(!compatible("2.0.0", "1.9.0"));
        assert!(!compatible("1.0.0", "garbage"));
    }

    #[test]
    fn host_version_matches_the_wit_package() {
        let wit = include_str!("../../../../wit/operator.wit");
        assert!(wit.contains(&format!("package platform-mesh:operator@{WIT_VERSION};")));
    }
}
