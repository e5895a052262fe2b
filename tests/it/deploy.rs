//! The shipped deployments start. The Dockerfile's command, the Kubernetes StatefulSet's
//! arguments with its ConfigMap's TOML, and the systemd unit's ExecStart with the shipped
//! config are read from deploy/ (not copied here), their image paths pointed at a temp dir and
//! their ports at 0, and each must become SERVING, with authentication on where they bind
//! 0.0.0.0. Without the token file they expect, they stop at once and say how to make one.
//! The HA overlay's pods (deploy/k8s-ha's environment on the same command) lead and follow on
//! one PostgreSQL database.

use crate::common::{temp, Daemon};
use std::path::{Path, PathBuf};
use std::process::Command;
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
use triage::proto as pb;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The JSON array of the Dockerfile instruction that starts with `prefix` (`CMD`, or
/// `HEALTHCHECK` for the health check's command), across continuation lines.
fn dockerfile_array(dockerfile: &str, prefix: &str) -> Vec<String> {
    let start = dockerfile
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in deploy/Dockerfile"));
    let mut text = String::new();
    for line in dockerfile.lines().skip(start) {
        text.push_str(line.trim().trim_end_matches('\\'));
        if line.trim_end().ends_with(']') {
            break;
        }
    }
    let array = &text[text.find('[').expect("an array")..];
    serde_json::from_str(array).unwrap_or_else(|e| panic!("{array}: {e}"))
}

/// `COPY SRC DST` lines of the runtime stage: where the image holds a file of the repository.
fn dockerfile_copies(dockerfile: &str) -> Vec<(String, String)> {
    dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("COPY "))
        .filter(|rest| !rest.starts_with("--"))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.to_string()))
        })
        .collect()
}

/// A token file with one admin entry, made by `triage ctl token` as README says; returns the
/// token, which must not be in the file.
fn make_tokens(path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["ctl", "token", "--name", "sre", "--role", "admin"])
        .output()
        .expect("triage ctl token");
    assert!(out.status.success(), "{out:?}");
    let entry = String::from_utf8(out.stdout).expect("utf-8");
    let told = String::from_utf8(out.stderr).expect("utf-8");
    let token = told
        .split_whitespace()
        .find(|w| w.starts_with("trg_"))
        .unwrap_or_else(|| panic!("no token on stderr: {told}"))
        .to_string();
    assert!(
        !entry.contains(&token),
        "the entry (stdout, appended to the file) must not carry the secret"
    );
    std::fs::write(path, entry).expect("write tokens");
    token
}

/// Points the image's paths at `map` and every listen port at 0.
fn localise(arg: &str, map: &[(String, PathBuf)]) -> String {
    let mut out = arg.to_string();
    for (image, here) in map {
        out = out.replace(image.as_str(), &here.display().to_string());
    }
    for port in [":50051", ":9464"] {
        out = out.replace(&format!("0.0.0.0{port}"), "0.0.0.0:0");
        out = out.replace(&format!("127.0.0.1{port}"), "127.0.0.1:0");
    }
    out
}

fn triage(args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
    // The image's command is the arguments after the entrypoint.
    let args = match args.first() {
        Some(first) if first.ends_with("/triage") => &args[1..],
        _ => args,
    };
    cmd.args(args);
    for var in [
        "TRIAGE_CONFIG",
        "TRIAGE_AUTH_FILE",
        "TRIAGE_INSECURE",
        "TRIAGE_DATA_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The daemon answers SERVING on the whole-server health check (Kubernetes' gRPC probe and
/// the Docker health check ask that), /healthz answers, and with `token` an admin call works
/// while one without a token is refused.
async fn assert_serving(d: &Daemon, token: Option<&str>) {
    let mut c = d.clients().await;
    let status = HealthClient::new(c.channel.clone())
        .check(HealthCheckRequest::default())
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING");
    assert!(crate::common::http_get(&d.metrics, "/healthz")
        .await
        .contains("ok"));
    let anonymous = c
        .admin
        .get_queue_stats(pb::GetQueueStatsRequest::default())
        .await;
    let Some(token) = token else {
        assert!(anonymous.is_ok(), "{anonymous:?}");
        return;
    };
    assert_eq!(
        anonymous.expect_err("no token").code(),
        tonic::Code::Unauthenticated
    );
    let mut req = tonic::Request::new(pb::GetQueueStatsRequest::default());
    let bearer = format!("Bearer {token}").parse().expect("ascii");
    req.metadata_mut().insert("authorization", bearer);
    c.admin.get_queue_stats(req).await.expect("the token works");
}

#[tokio::test]
async fn the_docker_image_command_serves_with_the_mounted_token_file_and_its_healthcheck_passes() {
    let dir = temp();
    let dockerfile = read("deploy/Dockerfile");
    let cmd = dockerfile_array(&dockerfile, "CMD ");
    let auth = cmd
        .iter()
        .position(|a| a == "--auth-file")
        .map(|i| cmd[i + 1].clone())
        .expect("the image's command names a token file");
    let tokens = dir.path().join("tokens.toml");
    let mut map: Vec<(String, PathBuf)> = dockerfile_copies(&dockerfile)
        .into_iter()
        .filter(|(src, _)| src.starts_with("deploy/"))
        .map(|(src, dst)| (dst, repo(&src)))
        .collect();
    map.push((auth, tokens.clone()));
    map.push(("/var/lib/triage".into(), dir.path().join("data")));
    let args: Vec<String> = cmd.iter().map(|a| localise(a, &map)).collect();

    // Not mounted: the container stops at once and says what is missing and how to make it.
    let (line, log) = Daemon::spawn(triage(&args), dir.path())
        .err()
        .expect("no token file, no daemon");
    assert!(line.is_empty(), "{line}");
    assert!(log.contains("triage ctl token"), "{log}");

    let token = make_tokens(&tokens);
    let d = Daemon::spawn(triage(&args), dir.path()).unwrap_or_else(|(l, log)| panic!("{l}{log}"));
    assert_serving(&d, Some(&token)).await;

    let check = dockerfile_array(&dockerfile, "HEALTHCHECK ");
    let port = d.grpc.rsplit(':').next().expect("port");
    let check: Vec<String> = check
        .iter()
        .map(|a| a.replace("127.0.0.1:50051", &format!("127.0.0.1:{port}")))
        .collect();
    let out = triage(&check).output().expect("health check");
    assert!(out.status.success(), "HEALTHCHECK fails: {out:?}");
}

/// The ConfigMap's `triage.toml`: the indented block under `triage.toml: |`.
fn configmap_toml() -> String {
    let yaml = read("deploy/k8s/configmap.yaml");
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim() != "triage.toml: |")
        .skip(1);
    let mut toml = String::new();
    for line in lines.by_ref() {
        match line.strip_prefix("    ") {
            Some(text) => toml.push_str(&format!("{text}\n")),
            None if line.trim().is_empty() => toml.push('\n'),
            None => break,
        }
    }
    toml
}

/// The container's `args:` list in the StatefulSet, and the mount path of volume `name`.
fn statefulset() -> (Vec<String>, impl Fn(&str) -> String) {
    let yaml = read("deploy/k8s/statefulset.yaml");
    let args: Vec<String> = yaml
        .lines()
        .skip_while(|l| l.trim() != "args:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- ").map(str::to_string))
        .collect();
    let mount = move |name: &str| {
        let mut lines = yaml
            .lines()
            .skip_while(|l| l.trim() != format!("- name: {name}"));
        lines
            .nth(1)
            .and_then(|l| l.trim().strip_prefix("mountPath: ").map(str::to_string))
            .unwrap_or_else(|| panic!("no volumeMount {name}"))
    };
    (args, mount)
}

/// The command the StatefulSet runs, with its ConfigMap and token Secret laid out under
/// `root` as the pod's mounts; and the admin token.
fn kubernetes_pod(root: &Path) -> (Command, String) {
    let (args, mount) = statefulset();
    let toml = configmap_toml();
    let auth: String = toml
        .lines()
        .find_map(|l| l.strip_prefix("auth_file = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("the ConfigMap names the token file");
    assert!(
        auth.starts_with(&format!("{}/", mount("tokens"))),
        "{auth} is in the Secret's mount"
    );
    let config_dir = mount("config");
    std::fs::create_dir_all(root).expect("the pod's root");
    let tokens = root.join("tokens.toml");
    let token = make_tokens(&tokens);
    let map = vec![
        (auth, tokens),
        (mount("data"), root.join("data")),
        (config_dir.clone(), root.join("etc")),
    ];
    std::fs::create_dir_all(root.join("etc")).expect("etc");
    let config = format!("{config_dir}/triage.toml");
    std::fs::write(localise(&config, &map), localise(&toml, &map)).expect("config");
    let args: Vec<String> = args.iter().map(|a| localise(a, &map)).collect();
    (triage(&args), token)
}

#[tokio::test]
async fn the_kubernetes_pod_serves_with_the_configmap_and_the_token_secret() {
    let dir = temp();
    let (cmd, token) = kubernetes_pod(dir.path());
    let d = Daemon::spawn(cmd, dir.path()).unwrap_or_else(|(l, log)| panic!("{l}{log}"));
    assert_serving(&d, Some(&token)).await;
}

/// The environment deploy/k8s-ha gives pod `pod`, as the kubelet would set it: `$(POD_NAME)`
/// substituted, and the Secret's `url` (here the test's database).
fn ha_environment(pod: &str, url: &str) -> Vec<(String, String)> {
    let yaml = read("deploy/k8s-ha/statefulset-ha.yaml");
    let secret = read("deploy/k8s-ha/secret.yaml");
    let lines: Vec<&str> = yaml
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let mut env = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line
            .strip_prefix("- name: ")
            .filter(|n| n.starts_with("TRIAGE_"))
        else {
            continue;
        };
        let value = match lines.get(i + 1).and_then(|l| l.strip_prefix("value: ")) {
            Some(value) => value.replace("$(POD_NAME)", pod),
            None => {
                let from: Vec<&str> = lines[i + 1..].iter().take(4).copied().collect();
                assert!(
                    from.contains(&"name: triage-database") && from.contains(&"key: url"),
                    "{name} comes from the Secret's url: {from:?}"
                );
                assert!(secret.contains("name: triage-database") && secret.contains("url: "));
                url.to_string()
            }
        };
        env.push((name.to_string(), value));
    }
    env
}

/// deploy/k8s-ha: two pods of the overlay on one database. The first leads and is Ready
/// (SERVING); the second follows: NOT_SERVING (so the Service's readiness probe keeps it out)
/// and every call is UNAVAILABLE naming the leader by the DNS name the overlay advertises.
#[tokio::test]
async fn the_ha_overlay_pods_lead_and_follow_on_one_database() {
    let Some((_, url)) = crate::common::pg_database() else {
        return;
    };
    let dir = temp();
    let mut pods = Vec::new();
    for pod in ["triage-0", "triage-1"] {
        let root = dir.path().join(pod);
        let (mut cmd, token) = kubernetes_pod(&root);
        let env = ha_environment(pod, &url);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["TRIAGE_ADVERTISE_ADDR", "TRIAGE_STORE"]);
        cmd.envs(env);
        let firsts = ["triage ready", "triage following"];
        let d = Daemon::spawn_saying(cmd, &root, &firsts)
            .unwrap_or_else(|(l, log)| panic!("{pod}: {l}{log}"));
        pods.push((d, token));
    }
    let (leader, token) = &pods[0];
    assert_serving(leader, Some(token)).await;
    let (follower, token) = &pods[1];
    let mut c = follower.clients().await;
    let health = HealthClient::new(c.channel.clone())
        .check(HealthCheckRequest::default())
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(
        health, 2,
        "NOT_SERVING: the readiness probe keeps a follower out"
    );
    let mut req = tonic::Request::new(pb::GetQueueStatsRequest::default());
    let bearer = format!("Bearer {token}").parse().expect("ascii");
    req.metadata_mut().insert("authorization", bearer);
    let refused = c.admin.get_queue_stats(req).await.expect_err("a follower");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert_eq!(
        triage::client::leader_named(&refused).as_deref(),
        Some("triage-0.triage-headless:50051"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_systemd_unit_serves_with_the_shipped_config() {
    let dir = temp();
    let unit = read("deploy/systemd/triage.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let config = dir.path().join("triage.toml");
    let map = vec![
        ("/etc/triage/triage.toml".to_string(), config.clone()),
        ("${STATE_DIRECTORY}".to_string(), dir.path().join("data")),
    ];
    std::fs::write(&config, localise(&read("deploy/triage.toml"), &map)).expect("config");
    let args: Vec<String> = exec.split_whitespace().map(|a| localise(a, &map)).collect();
    let d = Daemon::spawn(triage(&args), dir.path()).unwrap_or_else(|(l, log)| panic!("{l}{log}"));
    assert_serving(&d, None).await;
}

#[tokio::test]
async fn insecure_in_the_config_serves_a_non_loopback_address_without_tokens() {
    let dir = temp();
    let config = dir.path().join("triage.toml");
    let args: Vec<String> = [
        "serve",
        "--grpc-addr",
        "0.0.0.0:0",
        "--metrics-addr",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--data-dir".into(),
        dir.path().join("data").display().to_string(),
    ])
    .chain(["--config".into(), config.display().to_string()])
    .collect();
    std::fs::write(&config, "").expect("config");
    let (_, log) = Daemon::spawn(triage(&args), dir.path())
        .err()
        .expect("refused without tokens");
    assert!(log.contains("refusing to serve"), "{log}");
    std::fs::write(&config, "insecure = true\n").expect("config");
    let d = Daemon::spawn(triage(&args), dir.path()).unwrap_or_else(|(l, log)| panic!("{l}{log}"));
    assert_serving(&d, None).await;
    assert!(d.logs().contains("authentication is off"), "{}", d.logs());
}
