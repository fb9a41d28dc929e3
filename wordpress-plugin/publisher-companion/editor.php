<?php
/**
 * The publisher panel in the block editor: loads editor.js (plain JavaScript on WordPress's own
 * wp.* packages, no build step) on post screens, with what it needs to know from PHP: the SEO
 * plugin whose keys also carry the meta, the thresholds of rules.json, the site and the user.
 * Required by publisher-companion.php; the folder sits beside it in mu-plugins.
 */

if (!defined('ABSPATH')) {
    exit;
}

/** The keys the panel reads and writes that the main file may not register yet. */
const PUBLISHER_EDITOR_META = array(
    'publisher_meta_title', 'publisher_meta_description', 'publisher_focus_keyphrase',
    'publisher_to_verify', 'publisher_review', 'publisher_ai',
);

// Late (priority 20): the main file registers its keys at 10; only what is still missing here.
add_action('init', function () {
    $known = get_registered_meta_keys('post', 'post');
    foreach (PUBLISHER_EDITOR_META as $key) {
        if (isset($known[$key])) {
            continue;
        }
        $json = in_array($key, array('publisher_review', 'publisher_ai'), true);
        register_post_meta('post', $key, array(
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'default' => '',
            'auth_callback' => function ($allowed, $meta_key, $post_id) {
                return current_user_can('edit_post', $post_id);
            },
            'sanitize_callback' => $json ? null : 'sanitize_text_field',
        ));
    }
}, 20);

/** 'yoast' | 'rankmath' | 'none': the main file decides; the same tests if it cannot. */
function publisher_editor_seo_plugin() {
    if (function_exists('publisher_companion_seo_plugin')) {
        return publisher_companion_seo_plugin();
    }
    if (defined('WPSEO_VERSION')) {
        return 'yoast';
    }
    return (defined('RANK_MATH_VERSION') || class_exists('RankMath')) ? 'rankmath' : 'none';
}

/** rules.json as publisher exports it from publisher/seo/rules.py; null when absent or broken
 * (the script then uses the numbers of publisher/render/preview.py). */
function publisher_editor_rules() {
    $path = __DIR__ . '/rules.json';
    if (!is_readable($path)) {
        return null;
    }
    $rules = json_decode((string) file_get_contents($path), true);
    return is_array($rules) ? $rules : null;
}

function publisher_editor_config() {
    $user = wp_get_current_user();
    return array(
        'seoPlugin' => publisher_editor_seo_plugin(),
        'rules' => publisher_editor_rules(),
        'siteUrl' => home_url('/'),
        'siteName' => get_bloginfo('name'),
        'user' => array('id' => (int) $user->ID, 'name' => $user->display_name),
    );
}

add_action('enqueue_block_editor_assets', function () {
    $screen = function_exists('get_current_screen') ? get_current_screen() : null;
    if (!$screen || $screen->post_type !== 'post') {
        return;
    }
    $file = __DIR__ . '/editor.js';
    if (!is_file($file)) {
        return;
    }
    $deps = array('wp-plugins', 'wp-edit-post', 'wp-editor', 'wp-element', 'wp-components',
                  'wp-data', 'wp-i18n', 'wp-notices');
    // The file's time as version: an updated plugin is never hidden behind a cached script.
    wp_enqueue_script('publisher-companion-editor', plugins_url('editor.js', __FILE__), $deps,
                      (string) filemtime($file), true);
    wp_add_inline_script('publisher-companion-editor', 'window.publisherCompanion = '
        // HEX_TAG: a site name holding </script> cannot end the inline script.
        . wp_json_encode(publisher_editor_config(), JSON_UNESCAPED_UNICODE | JSON_HEX_TAG | JSON_HEX_AMP)
        . ';', 'before');
});
