<?php
// Installs or reconfigures one local site without wp-cli. Run by scripts/wp-local:
//   php install.php DOCROOT REQUEST.json RESULT.json
// REQUEST: {url, permalinks, users: {role: {username, password}}, categories: [...]}
// RESULT:  {users: {role: {id, app_password|null}}, installed: bool}
// App passwords are only created for users that do not have a "publisher-local" one yet,
// because WordPress shows the plain password exactly once.
list(, $docroot, $request_file, $result_file) = $argv;
$req = json_decode(file_get_contents($request_file), true);

$parts = parse_url($req['url']);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['SERVER_NAME'] = $parts['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';

function publisher_install_site($req) {
    if (is_blog_installed()) {
        return false;
    }
    $admin = $req['users']['administrator'];
    $res = wp_install('publisher local', $admin['username'], $admin['username'] . '@example.invalid',
                      false, '', wp_slash($admin['password']));
    if (is_wp_error($res)) {
        fwrite(STDERR, 'wp_install failed: ' . $res->get_error_message() . "\n");
        exit(2);
    }
    return true;
}

function publisher_set_permalinks($style) {
    global $wp_rewrite;
    $wp_rewrite->set_permalink_structure($style === 'pretty' ? '/%postname%/' : '');
    $wp_rewrite->flush_rules(false);
}

function publisher_ensure_user($role, $spec) {
    $user = get_user_by('login', $spec['username']);
    if (!$user) {
        $id = wp_insert_user(array(
            'user_login' => $spec['username'], 'user_pass' => $spec['password'],
            'user_email' => $spec['username'] . '@example.invalid', 'role' => $role,
            'display_name' => ucfirst($spec['username']),
        ));
        if (is_wp_error($id)) {
            fwrite(STDERR, "cannot create user {$spec['username']}: " . $id->get_error_message() . "\n");
            exit(2);
        }
        $user = get_user_by('id', $id);
    }
    // The block editor's welcome guide hides the editor on first visit: mark it as seen.
    update_user_meta($user->ID, $GLOBALS['wpdb']->get_blog_prefix() . 'persisted_preferences',
                     array('core/edit-post' => array('welcomeGuide' => false), '_modified' => gmdate('c')));
    return $user->ID;
}

function publisher_app_password($user_id) {
    foreach (WP_Application_Passwords::get_user_application_passwords($user_id) as $item) {
        if ($item['name'] === 'publisher-local') {
            return null;
        }
    }
    $made = WP_Application_Passwords::create_new_application_password(
        $user_id, array('name' => 'publisher-local'));
    if (is_wp_error($made)) {
        fwrite(STDERR, 'cannot create application password: ' . $made->get_error_message() . "\n");
        exit(2);
    }
    return $made[0];
}

$installed = publisher_install_site($req);
publisher_set_permalinks($req['permalinks']);
update_option('blogdescription', 'Site WordPress local de publisher');
$users = array();
foreach ($req['users'] as $role => $spec) {
    $id = publisher_ensure_user($role, $spec);
    $users[$role] = array('id' => $id, 'app_password' => publisher_app_password($id));
}
foreach ($req['categories'] as $name) {
    if (!term_exists($name, 'category')) {
        wp_insert_term($name, 'category');
    }
}
file_put_contents($result_file, json_encode(array('installed' => $installed, 'users' => $users)));
