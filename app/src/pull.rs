//! The commands people copy to fetch an image with Apptainer (or SingularityCE).
use crate::model::{ContainerRef, SiteInfo};

/// The architecture the registry assumes when a client names none.
const DEFAULT_ARCH: &str = "amd64";

/// `apptainer pull [--arch A] library://<host>/<entity>/<collection>/<container>:<tag>`.
pub fn library_pull(site: &SiteInfo, container: &ContainerRef, tag: &str, arch: &str) -> String {
    format!(
        "apptainer pull {}library://{}/{}:{tag}",
        arch_flag(arch),
        site.library_host,
        container.path()
    )
}

/// Pulls one exact image by content hash.
pub fn library_pull_by_hash(
    site: &SiteInfo,
    container: &ContainerRef,
    sha256: &str,
    arch: Option<&str>,
) -> String {
    format!(
        "apptainer pull {}library://{}/{}:sha256.{sha256}",
        arch_flag(arch.unwrap_or(DEFAULT_ARCH)),
        site.library_host,
        container.path()
    )
}

/// `apptainer pull oras://<host>/<entity>/<collection>/<container>:<tag>` (OCI distribution).
pub fn oras_pull(site: &SiteInfo, container: &ContainerRef, tag: &str) -> String {
    format!(
        "apptainer pull oras://{}/{}:{tag}",
        site.library_host,
        container.path()
    )
}

/// `apptainer pull shub://<host>/<entity>/<collection>/<container>:<tag>`.
pub fn shub_pull(site: &SiteInfo, container: &ContainerRef, tag: &str) -> String {
    format!(
        "apptainer pull shub://{}/{}:{tag}",
        site.library_host,
        container.path()
    )
}

/// The short form, once the registry is the default remote.
pub fn library_pull_short(container: &ContainerRef, tag: &str, arch: &str) -> String {
    format!(
        "apptainer pull {}library://{}:{tag}",
        arch_flag(arch),
        container.path()
    )
}

/// Registers this registry as a remote endpoint and makes it the default.
pub fn remote_setup(site: &SiteInfo) -> String {
    format!(
        "apptainer remote add --no-login {name} {url}\napptainer remote use {name}",
        name = site.remote_name,
        url = site.public_url
    )
}

/// `apptainer push` into the viewer's own namespace (placeholders in angle brackets).
pub fn push_example(site: &SiteInfo) -> String {
    format!(
        "apptainer push image.sif library://{}/<user>/<collection>/<name>:<tag>",
        site.library_host
    )
}

fn arch_flag(arch: &str) -> String {
    if arch.is_empty() || arch == DEFAULT_ARCH {
        String::new()
    } else {
        format!("--arch {arch} ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteInfo {
        SiteInfo {
            name: "HPC Centre".into(),
            public_url: "https://silo.example.org".into(),
            library_host: "silo.example.org".into(),
            remote_name: "hpc-centre".into(),
            ..Default::default()
        }
    }

    fn hello() -> ContainerRef {
        ContainerRef {
            entity: "alice".into(),
            collection: "e2e".into(),
            container: "hello".into(),
        }
    }

    #[test]
    fn pull_commands() {
        assert_eq!(
            library_pull(&site(), &hello(), "latest", "amd64"),
            "apptainer pull library://silo.example.org/alice/e2e/hello:latest"
        );
        assert_eq!(
            library_pull(&site(), &hello(), "v1", "arm64"),
            "apptainer pull --arch arm64 library://silo.example.org/alice/e2e/hello:v1"
        );
        assert_eq!(
            library_pull_by_hash(&site(), &hello(), "ab", None),
            "apptainer pull library://silo.example.org/alice/e2e/hello:sha256.ab"
        );
        assert_eq!(
            library_pull_short(&hello(), "v1", "amd64"),
            "apptainer pull library://alice/e2e/hello:v1"
        );
        assert_eq!(
            remote_setup(&site()),
            "apptainer remote add --no-login hpc-centre https://silo.example.org\napptainer remote use hpc-centre"
        );
    }
}
