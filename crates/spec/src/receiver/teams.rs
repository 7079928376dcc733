//! `type = "teams"`: Microsoft Teams, through a Workflows ("When a Teams webhook request is
//! received") URL or a legacy incoming webhook. The URL carries its own signature, so it is a
//! credential like Slack's: `url` from the environment, or `url_file`.

use super::kind::{Given, Kind, secret_url};
use crate::context::Ctx;
use crate::model::{ReceiverKind, SecretSource};
use crate::plugin::{Plugin, PluginSettings};

pub(crate) const KIND: Kind = Kind {
    name: "teams",
    keys: &["url", "url_file"],
    secret_keys: &["url"],
    fixed_repeat: None,
    check,
};

const EXAMPLE: &str = "https://prod-00.westeurope.logic.azure.com/workflows/...";

/// A validated `type = "teams"` receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Teams {
    /// `url` or `url_file`: the webhook URL (a secret).
    pub url: SecretSource,
}

impl PluginSettings for Teams {
    const TYPE: &'static str = "teams";
}

fn check(ctx: &mut Ctx<'_>, given: &Given<'_>) -> Option<ReceiverKind> {
    let url = secret_url(ctx, given, EXAMPLE, true)?;
    Some(ReceiverKind::Plugin(Plugin::new(Teams { url })))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Teams;
    use crate::{ReceiverKind, SecretSource};

    #[test]
    fn the_url_is_a_credential_from_the_environment_or_a_file() {
        let parse = |keys: &str| {
            let text = format!("[receivers.chat]\ntype = \"teams\"\n{keys}");
            crate::parse(&text, Path::new("/etc/b.toml"), &|name| {
                (name == "TEAMS_URL").then(|| "https://example.test/workflows/x?sig=s3cr3t".into())
            })
        };
        let config = parse("url = \"${TEAMS_URL}\"\n").unwrap();
        let ReceiverKind::Plugin(plugin) = &config.receivers["chat"].kind else {
            panic!("{config:?}");
        };
        let teams = plugin.get::<Teams>().unwrap();
        let SecretSource::Value(url) = &teams.url else {
            panic!("inline URL expected");
        };
        assert_eq!(url.expose(), "https://example.test/workflows/x?sig=s3cr3t");

        let errors = parse("url = \"https://example.test/workflows/x?sig=literal\"\n")
            .unwrap_err()
            .to_string();
        assert!(errors.contains("`url` is a secret written into the file (not shown)"), "{errors}");
        assert!(!errors.contains("sig=literal"), "{errors}");

        let errors = parse("routing_key = \"${TEAMS_URL}\"\nurl_file = \"u\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains(
                "`routing_key` is not a key of \"teams\" receivers ([receivers.chat]): only \
                 \"pagerduty\" receivers take it; keys of \"teams\" receivers: type, timeout, \
                 repeat_interval, send_resolved, url, url_file"
            ),
            "{errors}"
        );
        assert!(!errors.contains("s3cr3t"), "{errors}");
    }
}
