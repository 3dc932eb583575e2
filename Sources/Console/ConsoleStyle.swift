/// The console's one stylesheet, served as `/ui/console.css` (the content security policy allows no
/// inline styles). System fonts, no images; focus is always visible for keyboard users.
public enum ConsoleStyle {
    public static let sheet = """
        :root { --ink: #1b2430; --muted: #5b6673; --line: #d5dae0; --accent: #0b5cad; --bad: #a4161a;
          --good: #1f6f43; --warn: #8a5a00; --panel: #f5f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #ffbf47; outline-offset: 1px; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 8px 24px;
          background: var(--ink); color: #fff; }
        header a { color: #fff; }
        .brand { font-weight: 700; letter-spacing: 0.04em; }
        nav ul { display: flex; gap: 16px; list-style: none; margin: 0; padding: 0; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        .signout { margin-left: auto; display: flex; gap: 8px; align-items: center; }
        .who { font-family: ui-monospace, monospace; }
        main { padding: 16px 24px 48px; max-width: 1200px; }
        h1 { font-size: 1.6em; margin: 0.4em 0 0.6em; }
        h2 { font-size: 1.2em; margin: 1.4em 0 0.5em; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
        .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
        table { border-collapse: collapse; width: 100%; margin: 0.4em 0; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        thead th { border-bottom: 2px solid var(--ink); }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        .number { text-align: right; font-variant-numeric: tabular-nums; }
        .mono { font-family: ui-monospace, monospace; word-break: break-all; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dt { color: var(--muted); }
        dd { margin: 0; word-break: break-word; }
        label { display: block; font-weight: 600; margin: 8px 0 2px; }
        input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid var(--muted); border-radius: 4px;
          width: 100%; max-width: 420px; }
        button { font: inherit; padding: 6px 14px; margin-top: 10px; border: 1px solid var(--accent); border-radius: 4px;
          background: var(--accent); color: #fff; cursor: pointer; }
        header button { margin: 0; background: transparent; border-color: #fff; }
        button.danger { background: var(--bad); border-color: var(--bad); }
        .fields { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 0 16px; }
        .hint { color: var(--muted); margin: 2px 0; font-size: 0.9em; }
        .field-error { color: var(--bad); font-weight: 600; margin: 4px 0; }
        .notice { border-left: 4px solid var(--good); padding: 6px 12px; background: #eef7f1; }
        .status { padding: 1px 8px; border-radius: 10px; font-size: 0.9em; }
        .status.valid { background: #e3f2e8; color: var(--good); }
        .status.revoked { background: #f9e3e3; color: var(--bad); }
        .status.expired { background: #fdf1d8; color: var(--warn); }
        .chart text { font-size: 13px; fill: var(--ink); }
        .chart .bar { fill: var(--accent); }
        .depth-1 { padding-left: 28px; } .depth-2 { padding-left: 48px; } .depth-3 { padding-left: 68px; }
        .depth-4 { padding-left: 88px; }
        .downloads { padding-left: 20px; }
        form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 2px 4px 2px 0; }
        form.inline label { margin: 0; font-weight: 400; }
        form.inline input { width: 12em; }
        form.inline button { margin: 0; }
        .tabs ul { display: flex; gap: 16px; list-style: none; padding: 0; }
        .tabs a[aria-current="page"] { font-weight: 700; }
        textarea.mono { max-width: 60rem; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 8px 0; }
        details summary { cursor: pointer; margin: 12px 0 4px; }
        """
}
