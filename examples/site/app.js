// Reports what the browser got from the server: the stylesheet (its
// custom property is set) and the image (decoded, with its real size).
window.addEventListener('load', () => {
  const css = getComputedStyle(document.documentElement).getPropertyValue('--site-stylesheet').trim();
  const img = document.getElementById('logo');
  const image = img.complete && img.naturalWidth > 0 ? `${img.naturalWidth}x${img.naturalHeight}` : 'missing';
  const status = document.getElementById('status');
  status.textContent = `stylesheet: ${css === 'loaded' ? 'applied' : 'missing'}; image: ${image}; script: ran`;
  status.dataset.stylesheet = css === 'loaded' ? 'applied' : 'missing';
  status.dataset.image = image;
});
