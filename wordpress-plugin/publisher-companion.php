<?php
/**
 * Plugin Name: publisher companion
 * Description: Lets publisher write SEO meta (Yoast, Rank Math, or its own) and its report on drafts over the REST API, finds a draft by its source hash, prints the SEO tags when no SEO plugin does, and keeps drafts with facts to verify from being published unreviewed.
 * Version: 1.0.0
 * License: GPL-2.0-or-later
 *
 * Install: copy this single file into wp-content/mu-plugins/ (or wp-content/plugins/ and
 * activate it). What it adds, and nothing more:
 *  - post meta for 'post', visible in REST, writable only by users who can edit that post
 *    (never a generic "write any meta" endpoint);
 *  - the query parameter ?publisher_source_hash=… on GET /wp/v2/posts;
 *  - without Yoast or Rank Math: the document title, meta description, canonical link, Open
 *    Graph and Twitter tags of a post, from publisher's own fields (with one, it does nothing);
 *  - the AI disclosure line (publisher_ai) under the post's content, when one was configured;
 *  - review: an "À vérifier" column and view in the posts list, and a guard that refuses to
 *    publish or schedule a post whose facts were not confirmed as verified (publisher_review);
 *  - a short "publisher" summary box in the post editor.
 * Detection: publisher looks for these meta keys in the schema of OPTIONS /wp/v2/posts
 * (schema.properties.meta.properties); the collection parameter publisher_source_hash
 * is listed there too (endpoints[0].args).
 */

if (!defined('ABSPATH')) {
    exit;
}

// The block-editor panel lives in the folder beside this file (a copy of the file alone still works).
if (file_exists(__DIR__ . '/publisher-companion/editor.php')) { require_once __DIR__ . '/publisher-companion/editor.php'; }

const PUBLISHER_COMPANION_META = array(
    '_yoast_wpseo_title', '_yoast_wpseo_metadesc', '_yoast_wpseo_focuskw',
    'rank_math_title', 'rank_math_description', 'rank_math_focus_keyword',
    'publisher_source_url', 'publisher_source_hash', 'publisher_report',
    'publisher_meta_title', 'publisher_meta_description', 'publisher_focus_keyphrase',
    'publisher_to_verify', 'publisher_review', 'publisher_ai',
);

/** Whoever can edit this post may set its meta; keys starting with _ are protected otherwise. */
function publisher_companion_can_edit($allowed, $meta_key, $post_id) {
    return current_user_can('edit_post', $post_id);
}

function publisher_companion_sanitizer($key) {
    if ($key === 'publisher_source_url') {
        return 'esc_url_raw';
    }
    if ($key === 'publisher_report' || $key === 'publisher_source_hash' || $key === 'publisher_ai') {
        return null;  // stored as sent (JSON); escaped when shown
    }
    if ($key === 'publisher_to_verify') {
        return 'publisher_companion_sanitize_flag';
    }
    if ($key === 'publisher_review') {
        return 'publisher_companion_sanitize_review';
    }
    return 'sanitize_text_field';
}

add_action('init', function () {
    foreach (PUBLISHER_COMPANION_META as $key) {
        register_post_meta('post', $key, array(
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'default' => '',
            'auth_callback' => 'publisher_companion_can_edit',
            'sanitize_callback' => publisher_companion_sanitizer($key),
        ));
    }
});

// --- finding "the post that already carries this source hash" ---------------------------

add_filter('rest_post_collection_params', function ($params) {
    $params['publisher_source_hash'] = array(
        'description' => 'Limit results to posts whose publisher_source_hash meta equals this value.',
        'type' => 'string',
        'sanitize_callback' => 'sanitize_text_field',
    );
    return $params;
});

add_filter('rest_post_query', function ($args, $request) {
    $hash = $request->get_param('publisher_source_hash');
    if (is_string($hash) && $hash !== '') {
        $args['meta_query'] = isset($args['meta_query']) ? $args['meta_query'] : array();
        $args['meta_query'][] = array('key' => 'publisher_source_hash', 'value' => $hash, 'compare' => '=');
    }
    return $args;
}, 10, 2);


/** '1' or '': anything else an editor or a client sends means "nothing to verify". */
function publisher_companion_sanitize_flag($value) {
    return ((string) $value === '1') ? '1' : '';
}

/**
 * The review is recorded as the user who made the request, now: a client cannot sign it with
 * somebody else's name or date. Without a logged-in user (WP-CLI), what was sent is kept.
 */
function publisher_companion_sanitize_review($value) {
    if (!is_string($value) || trim($value) === '') {
        return '';
    }
    $sent = json_decode($value, true);
    $sent = is_array($sent) ? $sent : array();
    $user = wp_get_current_user();
    if ($user && $user->ID) {
        $review = array('user' => $user->ID, 'name' => $user->display_name, 'time' => gmdate('Y-m-d\TH:i:s\Z'));
    } else {
        $review = array('user' => isset($sent['user']) ? (int) $sent['user'] : 0,
                        'name' => isset($sent['name']) ? sanitize_text_field((string) $sent['name']) : '',
                        'time' => isset($sent['time']) ? sanitize_text_field((string) $sent['time']) : gmdate('Y-m-d\TH:i:s\Z'));
    }
    return wp_json_encode($review, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
}

// --- which SEO plugin prints the head tags ----------------------------------------------

/** 'yoast' | 'rankmath' | 'none': with a plugin, the SEO tags are its job, never ours. */
function publisher_companion_seo_plugin() {
    if (defined('WPSEO_VERSION')) {
        return 'yoast';
    }
    if (defined('RANK_MATH_VERSION') || class_exists('RankMath')) {
        return 'rankmath';
    }
    return 'none';
}

/** publisher's own SEO fields of the post being viewed, or null when we must print nothing. */
function publisher_companion_head_fields() {
    if (publisher_companion_seo_plugin() !== 'none' || !is_singular('post')) {
        return null;
    }
    $id = get_queried_object_id();
    $title = trim((string) get_post_meta($id, 'publisher_meta_title', true));
    $description = trim((string) get_post_meta($id, 'publisher_meta_description', true));
    if ($title === '' && $description === '') {
        return null;
    }
    return array('id' => $id, 'title' => $title, 'description' => $description);
}

// WordPress's own title filter: themes with title-tag support print it in <title>. A title
// returned here skips wp_get_document_title()'s escaping, so it is escaped here.
add_filter('pre_get_document_title', function ($title) {
    $fields = publisher_companion_head_fields();
    return ($fields && $fields['title'] !== '') ? esc_html($fields['title']) : $title;
}, 20);

add_action('wp_head', 'publisher_companion_print_head', 1);

function publisher_companion_print_head() {
    $fields = publisher_companion_head_fields();
    if (!$fields) {
        return;
    }
    $post = get_post($fields['id']);
    $title = $fields['title'] !== '' ? $fields['title'] : get_the_title($post);
    $url = wp_get_canonical_url($post);
    $url = $url ? $url : get_permalink($post);
    if ($fields['description'] !== '') {
        echo '<meta name="description" content="' . esc_attr($fields['description']) . '" />' . "\n";
    }
    // rel_canonical() prints one for a published post; a second would contradict nothing but
    // doubles the tag, so ours only stands in when that action was removed.
    if (!has_action('wp_head', 'rel_canonical') && get_post_status($post) === 'publish') {
        echo '<link rel="canonical" href="' . esc_url($url) . '" />' . "\n";
    }
    publisher_companion_social_tags($title, $fields['description'], $url);
}

function publisher_companion_social_tags($title, $description, $url) {
    $tags = array(
        array('property', 'og:type', 'article'),
        array('property', 'og:title', $title),
        array('property', 'og:description', $description),
        array('property', 'og:url', $url),
        array('property', 'og:site_name', get_bloginfo('name')),
        array('name', 'twitter:card', 'summary'),
        array('name', 'twitter:title', $title),
        array('name', 'twitter:description', $description),
    );
    foreach ($tags as $tag) {
        if ((string) $tag[2] !== '') {
            echo '<meta ' . $tag[0] . '="' . esc_attr($tag[1]) . '" content="' . esc_attr($tag[2]) . '" />' . "\n";
        }
    }
}

// --- the AI disclosure under the post ---------------------------------------------------

/** publisher_ai as an array ({"model", "date", "disclosure"}), or an empty one. */
function publisher_companion_ai($post_id) {
    $ai = json_decode((string) get_post_meta($post_id, 'publisher_ai', true), true);
    return is_array($ai) ? $ai : array();
}

add_filter('the_content', function ($content) {
    if (!is_singular('post') || !in_the_loop() || !is_main_query()) {
        return $content;
    }
    $ai = publisher_companion_ai(get_the_ID());
    $line = isset($ai['disclosure']) ? trim((string) $ai['disclosure']) : '';
    if ($line === '') {
        return $content;
    }
    return $content . "\n" . '<p class="publisher-ai-disclosure"><em>' . esc_html($line) . '</em></p>';
}, 20);

// --- review: facts to verify before publishing ------------------------------------------

function publisher_companion_needs_review($post_id) {
    return get_post_meta($post_id, 'publisher_to_verify', true) === '1'
        && trim((string) get_post_meta($post_id, 'publisher_review', true)) === '';
}

const PUBLISHER_COMPANION_REVIEW_REQUIRED = 'Cet article contient des chiffres ou des citations à vérifier : confirmez dans le panneau publisher qu’ils ont été vérifiés avant de le publier ou de le planifier.';

/** The block editor and publisher save over REST: refuse there, with the reason. */
add_filter('rest_pre_insert_post', function ($prepared, $request) {
    $status = isset($prepared->post_status) ? $prepared->post_status : '';
    if (!in_array($status, array('publish', 'future'), true)) {
        return $prepared;
    }
    $id = isset($prepared->ID) ? (int) $prepared->ID : 0;
    $meta = $request->get_param('meta');
    $meta = is_array($meta) ? $meta : array();
    $was_published = $id && in_array(get_post_status($id), array('publish', 'future'), true);
    // The stored flag counts even when the request clears it: only a review lifts it.
    $flag = (array_key_exists('publisher_to_verify', $meta) && (string) $meta['publisher_to_verify'] === '1')
        || ($id && get_post_meta($id, 'publisher_to_verify', true) === '1');
    $review = array_key_exists('publisher_review', $meta) ? (string) $meta['publisher_review']
        : ($id ? (string) get_post_meta($id, 'publisher_review', true) : '');
    if ($was_published || !$flag || trim($review) !== '') {
        return $prepared;
    }
    return new WP_Error('publisher_review_required', PUBLISHER_COMPANION_REVIEW_REQUIRED,
                        array('status' => 403));
}, 10, 2);

/** Quick edit, the classic editor, XML-RPC: no error can be shown there, the post stays unpublished. */
add_filter('wp_insert_post_data', function ($data, $postarr) {
    $id = isset($postarr['ID']) ? (int) $postarr['ID'] : 0;
    if (!$id || !in_array($data['post_status'], array('publish', 'future'), true)
        || in_array(get_post_status($id), array('publish', 'future'), true)
        || !publisher_companion_needs_review($id) || (defined('REST_REQUEST') && REST_REQUEST)) {
        return $data;
    }
    $data['post_status'] = 'pending';
    return $data;
}, 10, 2);

/** A recorded review answers the facts to verify: the flag goes, whoever wrote the review. */
function publisher_companion_review_saved($meta_id, $post_id, $meta_key, $value) {
    if ($meta_key === 'publisher_review' && is_string($value) && trim($value) !== '') {
        update_post_meta($post_id, 'publisher_to_verify', '');
    }
}
add_action('added_post_meta', 'publisher_companion_review_saved', 10, 4);
add_action('updated_post_meta', 'publisher_companion_review_saved', 10, 4);

// The REST API writes meta key by key, in registration order: a flag sent in the same request
// as a review must not outlive it.
add_action('rest_after_insert_post', function ($post) {
    if (get_post_meta($post->ID, 'publisher_to_verify', true) === '1'
        && trim((string) get_post_meta($post->ID, 'publisher_review', true)) !== '') {
        update_post_meta($post->ID, 'publisher_to_verify', '');
    }
});

// --- the posts list: an "À vérifier" column and view ------------------------------------

add_filter('manage_post_posts_columns', function ($columns) {
    $columns['publisher_to_verify'] = 'À vérifier';
    return $columns;
});

add_action('manage_post_posts_custom_column', function ($column, $post_id) {
    if ($column !== 'publisher_to_verify') {
        return;
    }
    if (publisher_companion_needs_review($post_id)) {
        echo '<span class="publisher-to-verify" style="color:#b32d2e;font-weight:600">'
            . esc_html('Faits à vérifier') . '</span>';
    } else {
        echo '<span aria-hidden="true">—</span><span class="screen-reader-text">'
            . esc_html('Rien à vérifier') . '</span>';
    }
}, 10, 2);

function publisher_companion_to_verify_query() {
    return array(array('key' => 'publisher_to_verify', 'value' => '1', 'compare' => '='));
}

add_filter('views_edit-post', function ($views) {
    $count = (new WP_Query(array('post_type' => 'post', 'post_status' => 'any', 'fields' => 'ids',
                                 'posts_per_page' => 1, 'meta_query' => publisher_companion_to_verify_query())))->found_posts;
    $current = isset($_GET['publisher_to_verify']) && $_GET['publisher_to_verify'] === '1';
    $url = add_query_arg(array('post_type' => 'post', 'publisher_to_verify' => '1'), admin_url('edit.php'));
    $views['publisher_to_verify'] = '<a href="' . esc_url($url) . '"' . ($current ? ' class="current" aria-current="page"' : '')
        . '>' . esc_html('À vérifier') . ' <span class="count">(' . (int) $count . ')</span></a>';
    return $views;
});

add_action('pre_get_posts', function ($query) {
    if (!is_admin() || !$query->is_main_query() || !isset($_GET['publisher_to_verify'])
        || $_GET['publisher_to_verify'] !== '1' || $query->get('post_type') !== 'post') {
        return;
    }
    $meta = $query->get('meta_query');
    $query->set('meta_query', array_merge(is_array($meta) ? $meta : array(), publisher_companion_to_verify_query()));
});

// --- the summary box in the post editor -------------------------------------------------

add_action('add_meta_boxes_post', function () {
    add_meta_box('publisher-report', 'publisher', 'publisher_companion_render_box', 'post', 'side', 'high');
});

/** A few lines: the detail (checks, sources, facts with their passages) is in the panel. */
function publisher_companion_render_box($post) {
    $report = json_decode((string) get_post_meta($post->ID, 'publisher_report', true), true);
    echo '<div class="publisher-summary">';
    if (!is_array($report)) {
        echo '<p>' . esc_html('Aucun rapport publisher pour cet article.') . '</p></div>';
        return;
    }
    $lines = array();
    if (isset($report['word_count'])) {
        $target = isset($report['target_words']) ? ' (objectif : ' . (int) $report['target_words'] . ')' : '';
        $lines[] = 'Longueur : ' . (int) $report['word_count'] . ' mots' . $target;
    }
    $facts = isset($report['untraceable']) && is_array($report['untraceable']) ? count($report['untraceable']) : 0;
    $lines[] = $facts ? sprintf('Faits à vérifier : %d', $facts) : 'Aucun fait à vérifier.';
    $lines[] = publisher_companion_review_line($post->ID, $facts);
    echo '<ul>';
    foreach (array_filter($lines) as $line) {
        echo '<li>' . esc_html($line) . '</li>';
    }
    // The panel's script opens itself on a click of this link (class publisher-open-panel).
    echo '</ul><p><a href="#publisher-panel" class="publisher-open-panel">'
        . esc_html('Ouvrir le panneau publisher') . '</a> : '
        . esc_html('vérifications, sources, faits à vérifier avec le passage le plus proche.') . '</p></div>';
}

function publisher_companion_review_line($post_id, $facts) {
    $review = json_decode((string) get_post_meta($post_id, 'publisher_review', true), true);
    if (is_array($review) && !empty($review['time'])) {
        $when = get_date_from_gmt(gmdate('Y-m-d H:i:s', strtotime((string) $review['time'])), 'j/m/Y à H:i');
        $who = !empty($review['name']) ? (string) $review['name'] : '?';
        return 'Vérification confirmée par ' . $who . ' le ' . $when . '.';
    }
    return $facts ? 'Vérification non confirmée : la publication est bloquée jusque-là.' : '';
}
