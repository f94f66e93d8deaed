/** The local Cognito's sign-in page: plain HTML, styled like a managed login form. @internal */
export function renderSignInPage({ uid, clientId, error }: { uid: string; clientId: string; error?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - local Cognito</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f2f3f3; margin: 0; display: grid; place-items: center; min-height: 100vh; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: 20rem; }
  h1 { font-size: 1.25rem; margin: 0 0 .25rem; } p.client { color: #687078; font-size: .8rem; margin: 0 0 1.5rem; }
  label { display: block; font-size: .85rem; margin: .75rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; border: 1px solid #aab7b8; border-radius: 4px; font-size: 1rem; }
  .actions { display: flex; gap: .5rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .6rem; border: 0; border-radius: 4px; font-size: 1rem; cursor: pointer; }
  button[value=login] { background: #0972d3; color: #fff; } button[value=cancel] { background: #e9ebed; }
  .error { background: #fff1f0; color: #b3261e; padding: .5rem; border-radius: 4px; font-size: .85rem; }
</style>
</head>
<body>
<main>
  <h1>Sign in</h1>
  <p class="client">Local Cognito &middot; app client ${escapeHtml(clientId)}</p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="/login/${escapeHtml(uid)}">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" autofocus required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <div class="actions">
      <button type="submit" name="action" value="login">Sign in</button>
      <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
    </div>
  </form>
</main>
</body>
</html>`;
}

/** Cognito shows its own page, not a redirect, for an unknown client or callback URL. @internal */
export function renderErrorPage(error: string, description: string | undefined): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error - local Cognito</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem;"><h1>An error was encountered with the requested page.</h1>
<p><strong>${escapeHtml(error)}</strong>${description ? `: ${escapeHtml(description)}` : ''}</p></body></html>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
