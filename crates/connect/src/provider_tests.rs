use super::*;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn keys(names: &[&str]) -> HashSet<String> {
    names.iter().map(|k| (*k).to_owned()).collect()
}

#[test]
fn file_provider_substitutes_properties() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.properties");
    std::fs::write(&file, "user = alice\npassword: s3cret\n").unwrap();
    let path = file.display().to_string();
    let worker = map(&[
        ("config.providers", "file"),
        ("config.providers.file.class", FILE_CONFIG_PROVIDER),
        (
            "sasl",
            &format!("u=${{file:{path}:user}} p=${{file:{path}:password}}"),
        ),
        ("missing", &format!("${{file:{path}:nope}}")),
    ]);
    let result = ConfigTransformer::from_config(&worker)
        .unwrap()
        .transform(&worker)
        .unwrap();
    assert_eq!(result.data["sasl"], "u=alice p=s3cret");
    assert_eq!(result.data["missing"], format!("${{file:{path}:nope}}"));
    assert_eq!(result.data["config.providers"], "file");
}

#[test]
fn file_provider_reports_unreadable_files() {
    let provider = FileConfigProvider::default();
    let err = provider
        .get("/nonexistent/x.properties", &keys(&["k"]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Could not read properties from file /nonexistent/x.properties"
    );
    assert!(provider.get("", &keys(&["k"])).unwrap().data.is_empty());
}

#[test]
fn allowed_paths_restrict_reads() {
    let allowed = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    for dir in [&allowed, &other] {
        std::fs::write(dir.path().join("p.properties"), "k=v\n").unwrap();
    }
    let mut provider = FileConfigProvider::default();
    provider
        .configure(&map(&[(
            "allowed.paths",
            &allowed.path().display().to_string(),
        )]))
        .unwrap();
    let inside = allowed.path().join("p.properties").display().to_string();
    assert_eq!(provider.get(&inside, &keys(&["k"])).unwrap().data["k"], "v");
    let escape = format!(
        "{}/../{}/p.properties",
        allowed.path().display(),
        other.path().file_name().unwrap().to_string_lossy()
    );
    assert!(
        provider
            .get(&escape, &keys(&["k"]))
            .unwrap()
            .data
            .is_empty()
    );
    let outside = other.path().join("p.properties").display().to_string();
    assert!(
        provider
            .get(&outside, &keys(&["k"]))
            .unwrap()
            .data
            .is_empty()
    );

    let err = provider
        .configure(&map(&[("allowed.paths", "relative/dir")]))
        .unwrap_err();
    assert_eq!(err.to_string(), "Path relative/dir is not absolute");
    let err = provider
        .configure(&map(&[("allowed.paths", "/no/such/dir")]))
        .unwrap_err();
    assert_eq!(err.to_string(), "Path /no/such/dir does not exist");
}

#[test]
fn directory_provider_reads_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("username"), "bob\n").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let provider = DirectoryConfigProvider::default();
    let path = dir.path().display().to_string();
    let data = provider
        .get(&path, &keys(&["username", "sub", "absent"]))
        .unwrap()
        .data;
    assert_eq!(data, map(&[("username", "bob\n")]));
    let file = dir.path().join("username").display().to_string();
    assert!(
        provider
            .get(&file, &keys(&["username"]))
            .unwrap()
            .data
            .is_empty()
    );
}

#[test]
fn env_provider_honours_allowlist_and_rejects_paths() {
    let mut provider =
        EnvVarConfigProvider::with_env(map(&[("DB_PASSWORD", "x"), ("HOME", "/root")]));
    provider
        .configure(&map(&[("allowlist.pattern", "DB_.*")]))
        .unwrap();
    let data = provider
        .get("", &keys(&["DB_PASSWORD", "HOME"]))
        .unwrap()
        .data;
    assert_eq!(data, map(&[("DB_PASSWORD", "x")]));
    let err = provider.get("/etc", &keys(&["HOME"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Path is not supported for EnvVarConfigProvider, invalid value '/etc'"
    );
    provider
        .configure(&map(&[("allowlist.pattern", "DB")]))
        .unwrap();
    assert!(
        provider
            .get("", &keys(&["DB_PASSWORD"]))
            .unwrap()
            .data
            .is_empty(),
        "pattern must match the whole name"
    );
}

#[test]
fn provider_declarations_follow_java() {
    let configs = map(&[
        ("config.providers", "env,undeclared"),
        ("config.providers.env.class", "EnvVarConfigProvider"),
        ("config.providers.env.param.allowlist.pattern", "X"),
    ]);
    let transformer = ConfigTransformer::from_config(&configs).unwrap();
    assert_eq!(transformer.provider_names().collect::<Vec<_>>(), ["env"]);

    let bad = map(&[
        ("config.providers", "v"),
        ("config.providers.v.class", "com.example.Vault"),
    ]);
    let err = ConfigTransformer::from_config(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value com.example.Vault for configuration config.providers.v.class: Could not load config provider class or one of its dependencies"
    );
    assert!(builtin_provider("org.apache.kafka.common.config.provider.File").is_none());
    assert!(builtin_provider("Directory").is_some());
}

#[test]
fn variable_pattern_matches_javas() {
    let parsed: Vec<_> = variables("${a:b} ${p:/x/y:k} ${q:c:d:e} ${nocolon} ${:k}")
        .map(|v| (v.provider, v.path, v.key))
        .collect();
    assert_eq!(
        parsed,
        [
            ("a", "", "b"),
            ("p", "/x/y", "k"),
            ("q", "c", "d:e"),
            ("", "", "k")
        ]
    );
}

#[test]
fn unknown_provider_and_unmatched_text_are_kept() {
    let env = EnvVarConfigProvider::with_env(map(&[("A", "1")]));
    let transformer = ConfigTransformer::new(HashMap::from([(
        "env".to_owned(),
        Box::new(env) as Box<dyn ConfigProvider>,
    )]));
    let configs = map(&[
        ("v", "$x ${env:A}${other:A} ${env:B} ${env:A"),
        ("dollar", "${env:A}$1"),
    ]);
    let data = transformer.transform(&configs).unwrap().data;
    assert_eq!(data["v"], "$x 1${other:A} ${env:B} ${env:A");
    assert_eq!(data["dollar"], "1$1");
}
